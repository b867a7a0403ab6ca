package registry

import (
	"context"
	"errors"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
)

// SizeLimitedStore answers 413 instead of 500 when etcd rejects an object as too large:
// validation bounds the data, but many small keys still grow the stored object (its
// managed fields list every key) past etcd's request limit, and that is the user's doing.
type SizeLimitedStore struct {
	*genericregistry.Store
}

// Create stores obj, mapping etcd's size rejection to 413.
func (s SizeLimitedStore) Create(ctx context.Context, obj runtime.Object, v rest.ValidateObjectFunc, o *metav1.CreateOptions) (runtime.Object, error) {
	out, err := s.Store.Create(ctx, obj, v, o)
	return out, mapTooLarge(err)
}

// Update stores the update, mapping etcd's size rejection to 413.
func (s SizeLimitedStore) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, cv rest.ValidateObjectFunc,
	uv rest.ValidateObjectUpdateFunc, force bool, o *metav1.UpdateOptions) (runtime.Object, bool, error) {
	out, created, err := s.Store.Update(ctx, name, objInfo, cv, uv, force, o)
	return out, created, mapTooLarge(err)
}

func mapTooLarge(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, rpctypes.ErrRequestTooLarge) || strings.Contains(err.Error(), rpctypes.ErrRequestTooLarge.Error()) {
		return apierrors.NewRequestEntityTooLargeError(
			"the object is too large to store (etcd's request size limit); reduce the number or size of its keys and values")
	}
	return err
}
