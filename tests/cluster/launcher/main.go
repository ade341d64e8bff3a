// Command launcher runs a throwaway Kubernetes control plane for tests and demos: an embedded
// etcd plus the kube-apiserver binary built next to it, with a generated PKI, RBAC
// authorization and service-account token signing, and (unless -controller-manager=false)
// kube-controller-manager running the namespace and garbage-collector controllers, so deleted
// namespaces are emptied and removed and dependents of deleted owners are deleted.
//
// It prints one line to stdout once /readyz is OK and kube-controller-manager is collecting
// garbage:
//
//	READY kubeconfig=<path> url=https://127.0.0.1:<port> etcd=http://127.0.0.1:<port> state=<dir>
//
// and then runs until SIGTERM/SIGINT, or until its stdin closes (unless -watch-stdin=false),
// so a test process that dies takes the control plane with it. On exit it stops
// kube-controller-manager, kube-apiserver and etcd and removes its state directory. Everything
// else it says goes to stderr.
//
// For tests of clients that must survive a control-plane outage: SIGUSR1 stops
// kube-controller-manager, kube-apiserver and etcd but keeps etcd's data and the PKI, and
// prints "STOPPED state=<dir>"; SIGUSR2 starts them again on the same ports with the same data
// and prints the READY line again (the same kubeconfig keeps working). A signal that finds the
// control plane already in the state it asks for is acknowledged the same way.
//
// Ports are chosen by the kernel (127.0.0.1:0) and retried on a fresh port if another process
// binds one first, and every launcher has its own state directory, so any number of launchers
// can run at once. Run with -h for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// The kube-apiserver and kube-controller-manager children get a parent-death signal, which Linux
// ties to the thread that forked them; keeping main on one OS thread makes that thread live as
// long as the launcher.
func init() { runtime.LockOSThread() }

type options struct {
	binDir            string
	stateParent       string
	kubeconfigOut     string
	watchStdin        bool
	verbose           bool
	controllerManager bool
	readyTimeout      time.Duration
	minRequestTimeout int
	extraArgs         stringList
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func parseFlags() options {
	var o options
	flag.StringVar(&o.binDir, "bin-dir", "", "directory holding kube-apiserver and kube-controller-manager (default: the launcher's own directory)")
	flag.StringVar(&o.stateParent, "state-parent", os.TempDir(), "directory in which a unique state directory is created")
	flag.StringVar(&o.kubeconfigOut, "kubeconfig", "", "also write the admin kubeconfig here (removed on exit); default: inside the state directory")
	flag.BoolVar(&o.watchStdin, "watch-stdin", true, "exit when stdin closes (disable for a foreground demo)")
	flag.BoolVar(&o.verbose, "v", false, "copy kube-apiserver, kube-controller-manager and etcd logs to stderr")
	flag.BoolVar(&o.controllerManager, "controller-manager", true, "run kube-controller-manager (namespace and garbage-collector controllers); false: a bare API server, where deleted namespaces stay Terminating")
	flag.DurationVar(&o.readyTimeout, "ready-timeout", 3*time.Minute, "give up if the control plane is not ready by then")
	flag.IntVar(&o.minRequestTimeout, "min-request-timeout", 0, "kube-apiserver --min-request-timeout in seconds (0: its default)")
	flag.Var(&o.extraArgs, "apiserver-arg", "extra kube-apiserver flag, e.g. --v=2 (repeatable)")
	flag.Parse()
	return o
}

func main() { os.Exit(run(parseFlags())) }

func run(o options) int {
	log.SetFlags(0)
	log.SetPrefix("launcher: ")
	started := time.Now()

	if o.binDir == "" {
		exe, err := os.Executable()
		if err != nil {
			log.Printf("cannot locate own executable: %v", err)
			return 1
		}
		o.binDir = filepath.Dir(exe)
	}
	if err := os.MkdirAll(o.stateParent, 0o755); err != nil {
		log.Printf("cannot create state parent: %v", err)
		return 1
	}
	sweepStaleStateDirs(o.stateParent)
	state, err := os.MkdirTemp(o.stateParent, stateDirPrefix)
	if err != nil {
		log.Printf("cannot create state directory: %v", err)
		return 1
	}
	defer os.RemoveAll(state)
	if err := os.WriteFile(filepath.Join(state, pidFile), []byte(fmt.Sprint(os.Getpid())), 0o644); err != nil {
		log.Printf("cannot write pid file: %v", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if o.watchStdin {
		ctx = stopWhenStdinCloses(ctx)
	}

	if err := serve(ctx, o, state, started); err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return 0
		}
		log.Printf("%v", err)
		return 1
	}
	return 0
}

// serve brings the control plane up, announces it, and blocks until asked to exit. SIGUSR1
// stops the control plane (keeping its data), SIGUSR2 starts it again; each is acknowledged
// on stdout, with a STOPPED line and a READY line respectively.
func serve(ctx context.Context, o options, state string, started time.Time) error {
	pki, err := writePKI(state)
	if err != nil {
		return fmt.Errorf("generating PKI: %w", err)
	}
	// Asked for before the first start, so an early signal waits instead of killing us.
	restarts := make(chan os.Signal, 4)
	signal.Notify(restarts, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(restarts)

	cp := newControlPlane(o, state, pki)
	if err := cp.start(ctx); err != nil {
		return err
	}
	defer func() {
		if cp.running() {
			cp.stop()
		}
	}()
	kubeconfig := cp.adminKubeconfig()
	if o.kubeconfigOut != "" {
		if err := writeKubeconfig(o.kubeconfigOut, cp.api.url, pki); err != nil {
			return err
		}
		defer os.Remove(o.kubeconfigOut)
		kubeconfig, _ = filepath.Abs(o.kubeconfigOut)
	}
	announce := func() {
		fmt.Printf("READY kubeconfig=%s url=%s etcd=%s state=%s\n", kubeconfig, cp.api.url, cp.etcd.clientURL, state)
	}
	announce()
	log.Printf("control plane ready in %.1fs (%s, %s)", time.Since(started).Seconds(), cp.children(), cp.api.url)

	for {
		select {
		case <-ctx.Done():
			log.Printf("stopping")
			return nil
		case err := <-cp.failed:
			return err
		case s := <-restarts:
			if err := handleRestartSignal(ctx, cp, s, announce); err != nil {
				return err
			}
		}
	}
}

// handleRestartSignal stops the control plane on SIGUSR1 and starts it again on SIGUSR2, and
// acknowledges either (also when it is already in the state asked for) with one stdout line.
func handleRestartSignal(ctx context.Context, cp *controlPlane, s os.Signal, announce func()) error {
	switch {
	case s == syscall.SIGUSR1 && cp.running():
		log.Printf("SIGUSR1: stopping the control plane, keeping etcd's data and the PKI")
		cp.stop()
	case s == syscall.SIGUSR2 && !cp.running():
		log.Printf("SIGUSR2: starting the control plane again on the same ports with the same data")
		started := time.Now()
		if err := cp.start(ctx); err != nil {
			return fmt.Errorf("restarting the control plane: %w", err)
		}
		log.Printf("control plane ready again in %.1fs (%s, %s)", time.Since(started).Seconds(), cp.children(), cp.api.url)
	case s == syscall.SIGUSR1:
		log.Printf("SIGUSR1: nothing to do, the control plane is already stopped")
	default:
		log.Printf("SIGUSR2: nothing to do, the control plane is already running")
	}
	if cp.running() {
		announce()
	} else {
		fmt.Printf("STOPPED state=%s\n", cp.state)
	}
	return nil
}

// stopWhenStdinCloses returns a context cancelled once stdin reaches EOF or fails.
func stopWhenStdinCloses(parent context.Context) context.Context {
	ctx, cancel := context.WithCancel(parent)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	return ctx
}
