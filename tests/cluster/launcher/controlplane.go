package main

import (
	"context"
	"fmt"
	"log"
	"path/filepath"
	"time"
)

// controlPlane is etcd, kube-apiserver and (optionally) kube-controller-manager. It can be
// stopped and started again: the restart keeps etcd's data directory, the ports and the PKI,
// so the kubeconfigs already handed out stay valid and every object is still there.
type controlPlane struct {
	o      options
	state  string
	pki    *pki
	starts int

	// The running components; nil while stopped (cm also without a controller manager).
	etcd *etcdServer
	api  *apiserver
	cm   *controllerManager
	// What a restart reuses: the last etcd's data directory and ports, kube-apiserver's port.
	lastEtcd *etcdServer
	apiPort  int

	// failed receives the first unexpected exit of a running component.
	failed chan error
	// Closing stopping tells the supervisor that the stop is deliberate; it closes supervised
	// when it has let go.
	stopping, supervised chan struct{}
}

func newControlPlane(o options, state string, p *pki) *controlPlane {
	return &controlPlane{o: o, state: state, pki: p, failed: make(chan error, 1)}
}

func (cp *controlPlane) running() bool { return cp.etcd != nil }

func (cp *controlPlane) adminKubeconfig() string { return filepath.Join(cp.state, "admin.kubeconfig") }

// start brings etcd, kube-apiserver and kube-controller-manager up in that order, each ready
// before the next starts, within the -ready-timeout. The first start picks the ports; later
// ones reuse them. On failure whatever did start is stopped again.
func (cp *controlPlane) start(ctx context.Context) (err error) {
	ready, cancel := context.WithTimeout(ctx, cp.o.readyTimeout)
	defer cancel()
	defer func() {
		if err != nil {
			cp.stopComponents()
		}
	}()
	cp.starts++
	first := cp.starts == 1

	if first {
		cp.etcd, err = startEtcd(ready, cp.state, cp.o.verbose)
	} else {
		cp.etcd, err = cp.lastEtcd.restart(ready)
	}
	if err != nil {
		cp.etcd = nil
		return fmt.Errorf("starting etcd: %w", err)
	}
	cp.lastEtcd = cp.etcd

	config := apiserverConfig{
		binDir:            cp.o.binDir,
		state:             cp.state,
		pki:               cp.pki,
		etcdURL:           cp.etcd.clientURL,
		verbose:           cp.o.verbose,
		minRequestTimeout: cp.o.minRequestTimeout,
		extraArgs:         cp.o.extraArgs,
	}
	if first {
		cp.api, err = startAPIServer(ready, config)
	} else {
		cp.api, err = restartAPIServer(ready, config, cp.apiPort, fmt.Sprintf("kube-apiserver-restart-%d.log", cp.starts-1))
	}
	if err != nil {
		cp.api = nil
		return fmt.Errorf("starting kube-apiserver: %w", err)
	}
	cp.apiPort = cp.api.port

	if first {
		if err := writeKubeconfig(cp.adminKubeconfig(), cp.api.url, cp.pki); err != nil {
			return err
		}
	}
	if cp.o.controllerManager {
		cp.cm, err = startControllerManager(ready, cp.o.binDir, cp.state, cp.adminKubeconfig(), cp.api.url, cp.pki, cp.o.verbose)
		if err != nil {
			cp.cm = nil
			return fmt.Errorf("starting kube-controller-manager: %w", err)
		}
	}
	cp.supervise()
	return nil
}

// children names the child processes and their pids, for the log.
func (cp *controlPlane) children() string {
	s := fmt.Sprintf("kube-apiserver pid %d", cp.api.pid())
	if cp.cm != nil {
		s += fmt.Sprintf(", kube-controller-manager pid %d", cp.cm.pid())
	}
	return s
}

// supervise reports the first unexpected exit of a component on failed, until stop.
func (cp *controlPlane) supervise() {
	cp.stopping, cp.supervised = make(chan struct{}), make(chan struct{})
	var cmExited <-chan error // stays nil (never ready) without a controller manager
	var cmLog string
	if cp.cm != nil {
		cmExited, cmLog = cp.cm.exited, cp.cm.logFile
	}
	api, etcd := cp.api, cp.etcd
	go func() {
		defer close(cp.supervised)
		var err error
		select {
		case <-cp.stopping:
			return
		case e := <-api.exited:
			err = fmt.Errorf("kube-apiserver exited unexpectedly: %v\n%s", e, api.logTail())
		case e := <-cmExited:
			err = fmt.Errorf("kube-controller-manager exited unexpectedly: %v\n%s", e, logTail(cmLog))
		case e := <-etcd.errors:
			err = fmt.Errorf("etcd failed: %v", e)
		}
		cp.failed <- err
	}()
}

// stop stops kube-controller-manager, kube-apiserver and etcd, in that order, keeping etcd's
// data directory.
func (cp *controlPlane) stop() {
	started := time.Now()
	if cp.stopping != nil {
		close(cp.stopping)
		<-cp.supervised
		cp.stopping = nil
	}
	cp.stopComponents()
	log.Printf("control plane stopped in %.1fs (etcd data kept in %s)", time.Since(started).Seconds(), cp.lastEtcd.dir)
}

// stopComponents stops whatever runs, last started first, logging how long each took.
func (cp *controlPlane) stopComponents() {
	timed := func(name string, stop func()) {
		started := time.Now()
		stop()
		log.Printf("stopped %s in %.1fs", name, time.Since(started).Seconds())
	}
	if cp.cm != nil {
		timed("kube-controller-manager", cp.cm.stop)
		cp.cm = nil
	}
	if cp.api != nil {
		timed("kube-apiserver", cp.api.stop)
		cp.api = nil
	}
	if cp.etcd != nil {
		timed("etcd", cp.etcd.stop)
		cp.etcd = nil
	}
}
