package shootlogin

import (
	"os"
	"os/exec"
	"path/filepath"

	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const installHint = "kubectl-shootlogin renews the client certificate of this shoot kubeconfig: " +
	"build it with `make plugin` in the garden-apiserver repository and put _output/bin/kubectl-shootlogin on PATH"

// execKubeconfig keeps the issued kubeconfig's clusters (servers and CAs) and contexts, and
// replaces its user by the exec plugin command with args, so no certificate is written into it.
func execKubeconfig(issued *clientcmdapi.Config, command string, args []string) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters, cfg.Contexts, cfg.CurrentContext = issued.Clusters, issued.Contexts, issued.CurrentContext
	for name := range issued.AuthInfos {
		cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
			APIVersion:      clientauthv1.SchemeGroupVersion.String(),
			Command:         command,
			Args:            args,
			InstallHint:     installHint,
			InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
		}}
	}
	return cfg
}

// commandPath is how the kubeconfig calls this program: by its name when that name on PATH is
// this very file (kubectl plugins live on PATH), else by its absolute path.
func commandPath() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return "", err
	}
	base := filepath.Base(self)
	if onPath, err := exec.LookPath(base); err == nil {
		a, errA := os.Stat(onPath)
		b, errB := os.Stat(self)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return base, nil
		}
	}
	return self, nil
}
