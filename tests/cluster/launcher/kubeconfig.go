package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
)

const kubeconfigTemplate = `apiVersion: v1
kind: Config
clusters:
- name: vpcroute-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: vpcroute-test-admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: vpcroute-test
  context:
    cluster: vpcroute-test
    user: vpcroute-test-admin
    namespace: default
current-context: vpcroute-test
`

// writeKubeconfig writes an admin kubeconfig for server atomically: readers see either no file
// or the whole file, never a partial one.
func writeKubeconfig(path, server string, p *pki) error {
	b64 := base64.StdEncoding.EncodeToString
	data := fmt.Sprintf(kubeconfigTemplate, server, b64(p.caPEM), b64(p.adminCertPEM), b64(p.adminKeyPEM))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kubeconfig-*")
	if err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	return nil
}
