package main

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
)

// Typed clients that send and accept protobuf only, as Kubernetes' controllers do.

const (
	tDirectPB  = "InternalSecret, direct, protobuf"
	tSecretsPB = "core/v1 Secret, kube-apiserver, protobuf"
)

// protoTargets returns protobuf twins of the direct InternalSecret and the Secret target: their
// own namespaces for create and get, the twins' list fixtures for lists.
func protoTargets(e *env, direct, secrets *target) ([]*target, error) {
	ours, err := protoTwin(direct, tDirectPB, e.path("garden.kubeconfig"), "bench-ours-pb")
	if err != nil {
		return nil, err
	}
	cfg, err := protoConfig(e.path("garden.kubeconfig"))
	if err != nil {
		return nil, err
	}
	oc, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ours.create = func(ctx context.Context, name string) error {
		_, err := oc.CoreV1beta1().InternalSecrets(ours.ns).Create(ctx, &corev1beta1.InternalSecret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ours.ns}, Data: payload()}, metav1.CreateOptions{})
		return err
	}
	ours.get = func(ctx context.Context, name string) error {
		_, err := oc.CoreV1beta1().InternalSecrets(ours.ns).Get(ctx, name, metav1.GetOptions{})
		return err
	}
	ours.list = listInternalSecrets(oc, ours)

	theirs, err := protoTwin(secrets, tSecretsPB, e.path("admin.kubeconfig"), "bench-secrets-pb")
	if err != nil {
		return nil, err
	}
	if cfg, err = protoConfig(e.path("admin.kubeconfig")); err != nil {
		return nil, err
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	theirs.create = func(ctx context.Context, name string) error {
		_, err := kc.CoreV1().Secrets(theirs.ns).Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: theirs.ns}, Data: payload()}, metav1.CreateOptions{})
		return err
	}
	theirs.get = func(ctx context.Context, name string) error {
		_, err := kc.CoreV1().Secrets(theirs.ns).Get(ctx, name, metav1.GetOptions{})
		return err
	}
	theirs.list = listSecrets(kc, theirs)
	return []*target{ours, theirs}, nil
}

// typedLists makes the decoded lists of the JSON targets with a typed client where there is one
// (InternalSecrets, Secrets), with JSON: the same decoding as the protobuf twins but for the format.
// CRD objects have only the dynamic client.
func typedLists(targets []*target) error {
	for _, t := range targets {
		cfg, err := restConfig(t.kubeconfig)
		if err != nil {
			return err
		}
		cfg.ContentType, cfg.AcceptContentTypes = runtime.ContentTypeJSON, runtime.ContentTypeJSON
		switch t.gvr {
		case gvrInternal:
			c, err := versioned.NewForConfig(cfg)
			if err != nil {
				return err
			}
			t.list = listInternalSecrets(c, t)
		case gvrSecret:
			c, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return err
			}
			t.list = listSecrets(c, t)
		}
	}
	return nil
}

func listInternalSecrets(c versioned.Interface, t *target) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		l, err := c.CoreV1beta1().InternalSecrets(t.listNS).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return 0, err
		}
		return len(l.Items), nil
	}
}

func listSecrets(c kubernetes.Interface, t *target) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		l, err := c.CoreV1().Secrets(t.listNS).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return 0, err
		}
		return len(l.Items), nil
	}
}

func protoTwin(of *target, label, kubeconfigPath, ns string) (*target, error) {
	t, err := newTarget(label, kubeconfigPath, of.gvr, of.kind, ns)
	if err != nil {
		return nil, err
	}
	t.servers, t.proto, t.listNS = of.servers, true, of.listNS
	t.accept = runtime.ContentTypeProtobuf
	return t, nil
}

func protoConfig(kubeconfigPath string) (*rest.Config, error) {
	cfg, err := restConfig(kubeconfigPath)
	if err != nil {
		return nil, err
	}
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf
	return cfg, nil
}
