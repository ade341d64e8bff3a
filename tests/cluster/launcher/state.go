package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	stateDirPrefix = "vpcroute-cp-"
	pidFile        = "launcher.pid"
)

// sweepStaleStateDirs removes state directories left behind by launchers that were killed
// outright (SIGKILL leaves no chance to clean up). A directory counts as stale when the pid it
// records is gone; very young directories are skipped, their launcher may not have written it yet.
func sweepStaleStateDirs(parent string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, stateDirPrefix+"*"))
	for _, dir := range dirs {
		info, err := os.Stat(dir)
		if err != nil || !info.IsDir() || time.Since(info.ModTime()) < time.Minute {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, pidFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
		if pid > 0 && processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
