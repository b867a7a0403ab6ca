package shootlogin

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// TestExecArgsRoundTrip: what the kubeconfig subcommand writes into the exec entry parses
// back into the same options in the credential subcommand.
func TestExecArgsRoundTrip(t *testing.T) {
	want := options{Namespace: "garden-dev", Shoot: "my-shoot", Viewer: true, GardenKubeconfig: "/home/a/garden.yaml",
		GardenContext: "garden", Expiration: 2 * time.Hour, RenewBefore: 15 * time.Minute, Timeout: 30 * time.Second}
	args := want.execArgs()
	if args[0] != "credential" {
		t.Fatalf("exec args %v do not start with the credential subcommand", args)
	}
	if sub, _, err := NewCommand(nil).Find(args); err != nil || sub.Name() != "credential" {
		t.Fatalf("exec args %v do not find the credential subcommand: %v", args, err)
	}
	got := newOptions()
	fs := pflag.NewFlagSet("credential", pflag.ContinueOnError)
	got.addFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		t.Fatal(err)
	}
	if *got != want {
		t.Errorf("exec args %v parse to %+v, want %+v", args, *got, want)
	}
}

func TestValidate(t *testing.T) {
	o := newOptions()
	o.Namespace, o.Shoot, o.Expiration = "../etc", "", time.Minute
	err := o.validate()
	for _, want := range []string{`--namespace "../etc"`, "--shoot is required", "--expiration 1m0s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate() = %v, want it to mention %s", err, want)
		}
	}
}

// TestUnreachableGardenIsOneLine: a garden whose port is closed gives one line naming it.
func TestUnreachableGardenIsOneLine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := fmt.Sprintf("https://%s", l.Addr())
	_ = l.Close()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["garden"] = &clientcmdapi.Cluster{Server: server, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["alice"] = &clientcmdapi.AuthInfo{Token: "t"}
	cfg.Contexts["garden"] = &clientcmdapi.Context{Cluster: "garden", AuthInfo: "alice"}
	cfg.CurrentContext = "garden"
	path := filepath.Join(t.TempDir(), "garden.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	g, err := loadGarden(path, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = g.Issue(context.Background(), "garden-dev", "my-shoot", false, time.Hour)
	if err == nil {
		t.Fatal("Issue against a closed port succeeded")
	}
	msg := OneLine(err)
	if !strings.Contains(msg, "the garden "+server+" is unreachable") || strings.Contains(msg, "\n") {
		t.Errorf("error = %q, want one line saying the garden %s is unreachable", msg, server)
	}
}
