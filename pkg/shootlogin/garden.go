package shootlogin

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
)

// Garden is the garden cluster the kubeconfigs are requested from.
type Garden struct {
	Server string
	// User is the kubeconfig's user entry for the garden (part of the cache key).
	User   string
	client versioned.Interface
}

// loadGarden reads the garden kubeconfig (path, or the usual KUBECONFIG rules when empty) and
// the context (its current context when empty).
func loadGarden(path, context string, timeout time.Duration) (*Garden, error) {
	cc := gardenClientConfig(path, context)
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("garden kubeconfig: %w", err)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("garden kubeconfig: %w", err)
	}
	cfg.Timeout = timeout
	cfg.WarningHandler = rest.NoWarnings{}
	client, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	name := raw.CurrentContext
	if context != "" {
		name = context
	}
	var user string
	if ctx := raw.Contexts[name]; ctx != nil {
		user = ctx.AuthInfo
	}
	return &Garden{Server: cfg.Host, User: user, client: client}, nil
}

func gardenClientConfig(path, context string) clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
}

// Issue requests a kubeconfig from the shoot's adminkubeconfig (viewerkubeconfig when viewer)
// subresource and returns it with its client credential.
func (g *Garden) Issue(ctx context.Context, namespace, shoot string, viewer bool, expiration time.Duration) (*clientcmdapi.Config, *clientauthv1.ExecCredentialStatus, error) {
	seconds := ptr.To(int64(expiration / time.Second))
	shoots := g.client.CoreV1beta1().Shoots(namespace)
	var raw []byte
	if viewer {
		resp, err := shoots.CreateViewerKubeconfigRequest(ctx, shoot,
			&authv1alpha1.ViewerKubeconfigRequest{Spec: authv1alpha1.ViewerKubeconfigRequestSpec{ExpirationSeconds: seconds}}, metav1.CreateOptions{})
		if err != nil {
			return nil, nil, g.explain(err, namespace, shoot)
		}
		raw = resp.Status.Kubeconfig
	} else {
		resp, err := shoots.CreateAdminKubeconfigRequest(ctx, shoot,
			&authv1alpha1.AdminKubeconfigRequest{Spec: authv1alpha1.AdminKubeconfigRequestSpec{ExpirationSeconds: seconds}}, metav1.CreateOptions{})
		if err != nil {
			return nil, nil, g.explain(err, namespace, shoot)
		}
		raw = resp.Status.Kubeconfig
	}
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("the garden returned an unreadable kubeconfig: %w", err)
	}
	st, err := credentialOf(cfg)
	return cfg, st, err
}

// credentialOf takes the client certificate and key of the kubeconfig's current context; the
// expiration is the certificate's NotAfter, which is what the shoot enforces.
func credentialOf(cfg *clientcmdapi.Config) (*clientauthv1.ExecCredentialStatus, error) {
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil || cfg.AuthInfos[ctx.AuthInfo] == nil {
		return nil, fmt.Errorf("the garden returned a kubeconfig without a user for context %q", cfg.CurrentContext)
	}
	user := cfg.AuthInfos[ctx.AuthInfo]
	block, _ := pem.Decode(user.ClientCertificateData)
	if block == nil || len(user.ClientKeyData) == 0 {
		return nil, fmt.Errorf("the garden returned a kubeconfig without a client certificate and key")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the garden returned an unreadable client certificate: %w", err)
	}
	return &clientauthv1.ExecCredentialStatus{
		ExpirationTimestamp:   &metav1.Time{Time: cert.NotAfter},
		ClientCertificateData: string(user.ClientCertificateData),
		ClientKeyData:         string(user.ClientKeyData),
	}, nil
}
