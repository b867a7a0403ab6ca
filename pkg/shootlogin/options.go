package shootlogin

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/clientcmd"
)

// options are the flags both subcommands share; the kubeconfig subcommand writes them into
// the exec entry, so the credential subcommand sees the same values.
type options struct {
	Namespace, Shoot string
	Viewer           bool
	GardenKubeconfig string
	GardenContext    string
	Expiration       time.Duration
	RenewBefore      time.Duration
	Timeout          time.Duration
}

func newOptions() *options {
	return &options{Expiration: time.Hour, RenewBefore: 10 * time.Minute, Timeout: 30 * time.Second}
}

func (o *options) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Namespace, "namespace", "n", o.Namespace, "Project namespace of the shoot in the garden.")
	fs.StringVar(&o.Shoot, "shoot", o.Shoot, "Name of the shoot.")
	fs.BoolVar(&o.Viewer, "viewer", o.Viewer, "Request viewer kubeconfigs (shoots/viewerkubeconfig) instead of admin ones.")
	fs.StringVar(&o.GardenKubeconfig, "garden-kubeconfig", o.GardenKubeconfig, "Kubeconfig of the garden (default: $KUBECONFIG or ~/.kube/config when it names one file).")
	fs.StringVar(&o.GardenContext, "garden-context", o.GardenContext, "Context of the garden kubeconfig (default: its current context).")
	fs.DurationVar(&o.Expiration, "expiration", o.Expiration, "Validity requested for each client certificate (at least 10m; the garden may grant less).")
	fs.DurationVar(&o.RenewBefore, "renew-before", o.RenewBefore, "Request a new certificate once the cached one expires within this duration.")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "Timeout of the request to the garden.")
}

func (o *options) validate() error {
	var errs []string
	for flag, v := range map[string]string{"--namespace": o.Namespace, "--shoot": o.Shoot} {
		if v == "" {
			errs = append(errs, flag+" is required")
		} else if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
			errs = append(errs, fmt.Sprintf("%s %q: %s", flag, v, strings.Join(msgs, ", ")))
		}
	}
	if o.Expiration < 10*time.Minute {
		errs = append(errs, fmt.Sprintf("--expiration %s: must be at least 10m", o.Expiration))
	}
	if o.RenewBefore < 0 {
		errs = append(errs, "--renew-before must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func (o *options) kind() string {
	if o.Viewer {
		return "viewer"
	}
	return "admin"
}

// pinGarden fixes the garden kubeconfig file and context to what they are now, so the shoot
// kubeconfig keeps working when KUBECONFIG later points at it or the current context changes.
func (o *options) pinGarden() error {
	if o.GardenKubeconfig == "" {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		files := rules.GetLoadingPrecedence()
		if len(files) != 1 {
			return fmt.Errorf("KUBECONFIG names %d files: pass --garden-kubeconfig", len(files))
		}
		if _, err := os.Stat(files[0]); err != nil {
			return fmt.Errorf("no garden kubeconfig (%w): pass --garden-kubeconfig or set KUBECONFIG", err)
		}
		o.GardenKubeconfig = files[0]
	}
	abs, err := filepath.Abs(o.GardenKubeconfig)
	if err != nil {
		return err
	}
	o.GardenKubeconfig = abs
	if o.GardenContext == "" {
		raw, err := gardenClientConfig(o.GardenKubeconfig, "").RawConfig()
		if err != nil {
			return fmt.Errorf("garden kubeconfig: %w", err)
		}
		if raw.CurrentContext == "" {
			return fmt.Errorf("garden kubeconfig %s has no current context: pass --garden-context", o.GardenKubeconfig)
		}
		o.GardenContext = raw.CurrentContext
	}
	return nil
}

// execArgs are the arguments of the credential subcommand in the printed kubeconfig.
func (o *options) execArgs() []string {
	args := []string{"credential", "--namespace=" + o.Namespace, "--shoot=" + o.Shoot,
		"--garden-kubeconfig=" + o.GardenKubeconfig, "--garden-context=" + o.GardenContext,
		"--expiration=" + o.Expiration.String(), "--renew-before=" + o.RenewBefore.String(), "--timeout=" + o.Timeout.String()}
	if o.Viewer {
		args = append(args, "--viewer")
	}
	return args
}
