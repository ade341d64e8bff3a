package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// child is a process the launcher owns (kube-apiserver, kube-controller-manager): it dies with
// the launcher, logs to a file, and reports its exit on exited.
type child struct {
	cmd     *exec.Cmd
	logFile string
	exited  chan error
}

// startChild runs bin with args, its output going to out (the open logFile), and to stderr too
// when verbose. out is closed when the process exits.
func startChild(bin string, args []string, out *os.File, logFile string, verbose bool) (*child, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if verbose {
		cmd.Stdout = io.MultiWriter(out, os.Stderr)
		cmd.Stderr = cmd.Stdout
	}
	// Dies with the launcher even if the launcher is killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("running %s: %w", bin, err)
	}
	c := &child{cmd: cmd, logFile: logFile, exited: make(chan error, 1)}
	go func() {
		err := cmd.Wait()
		out.Close()
		c.exited <- err
		close(c.exited)
	}()
	return c, nil
}

// stop asks the process to terminate and kills it if it lingers.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// logTail returns the last lines of the process's log, for error messages.
func (c *child) logTail() string { return logTail(c.logFile) }
