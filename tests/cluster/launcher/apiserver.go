package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

type apiserverConfig struct {
	binDir, state, etcdURL string
	pki                    *pki
	verbose                bool
	minRequestTimeout      int
	extraArgs              []string
}

// apiserver is a running kube-apiserver child process.
type apiserver struct {
	*child
	url  string
	port int
}

// startAPIServer runs kube-apiserver on a free loopback port and waits until /readyz is OK.
// If the port was taken between our probe and its bind, it is restarted on a fresh port.
func startAPIServer(ctx context.Context, c apiserverConfig) (*apiserver, error) {
	bin := filepath.Join(c.binDir, "kube-apiserver")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s not found (build it with: bash tests/cluster/build.sh): %w", bin, err)
	}
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		a, taken, err := launchReady(ctx, bin, c, ports[0], fmt.Sprintf("kube-apiserver-%d.log", attempt))
		if !taken || attempt == bindAttempts {
			return a, err
		}
		log.Printf("kube-apiserver port %d was taken, retrying", ports[0])
	}
}

// restartAPIServer runs kube-apiserver again on the port it had, so every kubeconfig stays
// valid, and waits until /readyz is OK. A port another process took meanwhile is waited for.
func restartAPIServer(ctx context.Context, c apiserverConfig, port int, logName string) (*apiserver, error) {
	bin := filepath.Join(c.binDir, "kube-apiserver")
	for {
		a, taken, err := launchReady(ctx, bin, c, port, logName)
		if !taken || ctx.Err() != nil {
			return a, err
		}
		log.Printf("kube-apiserver port %d is taken, retrying", port)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// launchReady runs kube-apiserver on port and waits until /readyz is OK. If it does not get
// there it is stopped again, and taken says whether that was because the port was in use.
func launchReady(ctx context.Context, bin string, c apiserverConfig, port int, logName string) (a *apiserver, taken bool, err error) {
	a, err = launch(bin, c, port, logName)
	if err != nil {
		return nil, false, err
	}
	if err = a.waitReady(ctx, c.pki); err == nil {
		return a, false, nil
	}
	a.stop()
	tail := a.logTail()
	return nil, strings.Contains(tail, "address already in use"), fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, a.logFile, tail)
}

func launch(bin string, c apiserverConfig, port int, logName string) (*apiserver, error) {
	logFile := filepath.Join(c.state, logName)
	out, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	args := []string{
		"--etcd-servers=" + c.etcdURL,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--cert-dir=" + filepath.Join(c.state, "apiserver-certs"),
		"--tls-cert-file=" + c.pki.serverCertFile,
		"--tls-private-key-file=" + c.pki.serverKeyFile,
		"--client-ca-file=" + c.pki.caCertFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + c.pki.saPublicKeyFile,
		"--service-account-signing-key-file=" + c.pki.saPrivateKeyFile,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		"--disable-admission-plugins=ServiceAccount",
		"--profiling=false",
		// Ends open watches when stopping, instead of waiting out the 60 s shutdown timeout
		// for them (the process would be killed first): a stop takes about a second.
		"--shutdown-watch-termination-grace-period=2s",
	}
	if c.minRequestTimeout > 0 {
		args = append(args, fmt.Sprintf("--min-request-timeout=%d", c.minRequestTimeout))
	}
	args = append(args, c.extraArgs...)

	proc, err := startChild(bin, args, out, logFile, c.verbose)
	if err != nil {
		return nil, err
	}
	return &apiserver{child: proc, url: fmt.Sprintf("https://127.0.0.1:%d", port), port: port}, nil
}

// waitReady polls /readyz as admin, trusting only our CA, until it answers 200.
func (a *apiserver) waitReady(ctx context.Context, p *pki) error {
	tlsConfig, err := p.adminTLS()
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	last := "no answer yet"
	for {
		select {
		case err := <-a.exited:
			return fmt.Errorf("kube-apiserver exited before it was ready: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready (%s): %w", last, ctx.Err())
		case <-tick.C:
		}
		resp, err := client.Get(a.url + "/readyz")
		if err != nil {
			last = err.Error()
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		last = fmt.Sprintf("/readyz %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
}

// logTail returns the last lines of a child process's log file, for error messages.
func logTail(logFile string) string {
	data, err := os.ReadFile(logFile)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}
