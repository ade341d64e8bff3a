package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

const bindAttempts = 5

// etcdServer is the embedded single-member etcd of one control plane.
type etcdServer struct {
	server    *embed.Etcd
	clientURL string
	errors    <-chan error // closed by stop
	// What a restart needs to come back as the same member: data directory and ports.
	dir     string
	ports   []int
	verbose bool
}

// startEtcd starts etcd on two free loopback ports (client, peer). Another process can take a
// port between our probe and etcd's bind, so a failed start is retried on fresh ports.
func startEtcd(ctx context.Context, state string, verbose bool) (*etcdServer, error) {
	var lastErr error
	for attempt := 1; attempt <= bindAttempts; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		e, err := tryStartEtcd(ctx, filepath.Join(state, fmt.Sprintf("etcd-%d", attempt)), ports, verbose)
		if err == nil {
			return e, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lastErr = err
		log.Printf("etcd attempt %d failed: %v", attempt, err)
	}
	return nil, lastErr
}

// restart starts a stopped etcd again with the same data directory and ports, so it is the
// same member with the same data at the same URL. A port another process took meanwhile is
// waited for (it cannot move: kube-apiserver is configured with the URL).
func (e *etcdServer) restart(ctx context.Context) (*etcdServer, error) {
	for {
		next, err := tryStartEtcd(ctx, e.dir, e.ports, e.verbose)
		if err == nil {
			return next, nil
		}
		if ctx.Err() != nil || !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
		log.Printf("etcd ports %v are taken, retrying: %v", e.ports, err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func tryStartEtcd(ctx context.Context, dir string, ports []int, verbose bool) (*etcdServer, error) {
	clientURL := loopbackURL("http", ports[0])
	peerURL := loopbackURL("http", ports[1])

	cfg := embed.NewConfig()
	cfg.Name = "vpcroute-test"
	cfg.Dir = dir
	cfg.UnsafeNoFsync = true
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{filepath.Join(filepath.Dir(dir), "etcd.log")}
	if verbose {
		cfg.LogOutputs = append(cfg.LogOutputs, "stderr")
	}

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return &etcdServer{server: e, clientURL: clientURL.String(), errors: e.Err(), dir: dir, ports: ports, verbose: verbose}, nil
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	case <-time.After(time.Minute):
		e.Close()
		return nil, fmt.Errorf("etcd not ready after a minute")
	}
}

func (e *etcdServer) stop() { e.server.Close() }

// freePorts asks the kernel for n distinct free loopback ports. They are released before use,
// so callers must retry if a bind later fails.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func loopbackURL(scheme string, port int) url.URL {
	return url.URL{Scheme: scheme, Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
}
