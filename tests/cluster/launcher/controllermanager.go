package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// controllerManagerArgs are the kube-controller-manager flags: only the controllers that make a
// deleted namespace go away (namespace) and delete dependents of deleted owners
// (garbagecollector), acting as the admin user, with no leader election and no serving port.
func controllerManagerArgs(kubeconfig string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--controllers=namespace,garbagecollector",
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--secure-port=0",
	}
}

// controllerManager is a running kube-controller-manager child process.
type controllerManager struct {
	*child
}

// startControllerManager runs kube-controller-manager against the API server at apiURL and
// waits until its garbage collector has deleted a probe object.
func startControllerManager(ctx context.Context, binDir, state, kubeconfig, apiURL string, p *pki, verbose bool) (*controllerManager, error) {
	bin := filepath.Join(binDir, "kube-controller-manager")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s not found (build it with: bash tests/cluster/build.sh, or run with -controller-manager=false): %w", bin, err)
	}
	logFile := filepath.Join(state, "kube-controller-manager.log")
	// Appended to: a restarted control plane runs it again.
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	proc, err := startChild(bin, controllerManagerArgs(kubeconfig), out, logFile, verbose)
	if err != nil {
		return nil, err
	}
	cm := &controllerManager{child: proc}
	if err := cm.waitCollecting(ctx, apiURL, p); err != nil {
		cm.stop()
		return nil, fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, logFile, logTail(logFile))
	}
	return cm, nil
}

// waitCollecting creates an object whose owner does not exist and waits until the garbage
// collector deletes it: proof that kube-controller-manager is running with its informers synced
// (the namespace controller starts alongside). The object is an empty ClusterRole, which grants
// nothing and needs no namespace. (A namespace probe would cost 5 s: the namespace controller
// waits that long before it acts on a deleted namespace.)
func (cm *controllerManager) waitCollecting(ctx context.Context, apiURL string, p *pki) error {
	tlsConfig, err := p.adminTLS()
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	defer client.CloseIdleConnections()

	const collection = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
	body := []byte(`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
		"metadata":{"generateName":"launcher-gc-probe-","ownerReferences":[{"apiVersion":"rbac.authorization.k8s.io/v1",
		"kind":"ClusterRole","name":"launcher-gc-probe-missing-owner","uid":"` + randomUID() + `"}]}}`)
	status, answer, err := request(ctx, client, http.MethodPost, apiURL+collection, body)
	if err != nil || status != http.StatusCreated {
		return fmt.Errorf("creating the garbage-collection probe: %d %s %v", status, answer, err)
	}
	var created struct {
		Metadata struct{ Name string } `json:"metadata"`
	}
	if err := json.Unmarshal(answer, &created); err != nil || created.Metadata.Name == "" {
		return fmt.Errorf("creating the garbage-collection probe: unexpected answer %s", answer)
	}
	url := apiURL + collection + "/" + created.Metadata.Name

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := "still there"
	for {
		select {
		case err := <-cm.exited:
			return fmt.Errorf("kube-controller-manager exited before it was ready: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("kube-controller-manager did not garbage-collect ClusterRole %s (%s): %w", created.Metadata.Name, last, ctx.Err())
		case <-tick.C:
		}
		status, answer, err := request(ctx, client, http.MethodGet, url, nil)
		switch {
		case err != nil:
			last = err.Error()
		case status == http.StatusNotFound:
			return nil
		case status != http.StatusOK:
			last = fmt.Sprintf("%d: %.300s", status, bytes.TrimSpace(answer))
		}
	}
}

// randomUID returns a random RFC 4122 version 4 UUID.
func randomUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func request(ctx context.Context, client *http.Client, method, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, answer, err
}
