package shootaccess

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// get reads from the watch cache (resourceVersion 0) and falls back to a quorum read on
// NotFound, so an object created just before the request is still found.
func get(ctx context.Context, g rest.Getter, namespace, name string, fresh bool) (runtime.Object, error) {
	ctx = genericapirequest.WithNamespace(ctx, namespace)
	if fresh {
		return g.Get(ctx, name, &metav1.GetOptions{})
	}
	obj, err := g.Get(ctx, name, &metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		obj, err = g.Get(ctx, name, &metav1.GetOptions{})
	}
	return obj, err
}

func getShoot(ctx context.Context, g rest.Getter, namespace, name string, fresh bool) (*core.Shoot, error) {
	obj, err := get(ctx, g, namespace, name, fresh)
	if err != nil {
		return nil, err
	}
	shoot, ok := obj.(*core.Shoot)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("unexpected object %T", obj))
	}
	return shoot, nil
}

// getInternalSecret returns the store's error as it is: NotFound stays NotFound, so callers
// can tell a missing secret from a failed read.
func getInternalSecret(ctx context.Context, g rest.Getter, namespace, name string) (*core.InternalSecret, error) {
	obj, err := get(ctx, g, namespace, name, false)
	if err != nil {
		return nil, err
	}
	secret, ok := obj.(*core.InternalSecret)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("unexpected object %T", obj))
	}
	return secret, nil
}
