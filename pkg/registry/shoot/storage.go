package shoot

import (
	"context"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/registry"
)

// REST is the etcd storage of Shoots.
type REST struct {
	registry.EtcdErrorStore
}

// StatusREST serves shoots/status.
type StatusREST struct {
	store registry.EtcdErrorStore
}

var (
	_ rest.CategoriesProvider = &REST{}
	_ rest.Patcher            = &StatusREST{}
)

// NewREST returns the storage of shoots and shoots/status.
func NewREST(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (*REST, *StatusREST, error) {
	strategy := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &core.Shoot{} },
		NewListFunc:               func() runtime.Object { return &core.ShootList{} },
		PredicateFunc:             Match,
		DefaultQualifiedResource:  core.Resource("shoots"),
		SingularQualifiedResource: core.Resource("shoot"),

		CreateStrategy:      strategy,
		UpdateStrategy:      strategy,
		DeleteStrategy:      strategy,
		ResetFieldsStrategy: strategy,

		TableConvertor: registry.TableConvertor{
			Columns: []metav1.TableColumnDefinition{
				{Name: "K8s Version", Type: "string", Description: "spec.kubernetes.version"},
				{Name: "Status", Type: "string", Description: "State of the last operation."},
				{Name: "Addresses", Type: "string", Description: "Names of the advertised API server addresses.", Priority: 1},
			},
			Cells: func(obj runtime.Object) ([]interface{}, error) {
				s := obj.(*core.Shoot)
				state := "<unknown>"
				if op := s.Status.LastOperation; op != nil && op.State != "" {
					state = op.State
				}
				addrs := make([]string, 0, len(s.Status.AdvertisedAddresses))
				for _, a := range s.Status.AdvertisedAddresses {
					addrs = append(addrs, a.Name)
				}
				return []interface{}{s.Spec.Kubernetes.Version, state, strings.Join(addrs, ",")}, nil
			},
		},
	}
	options := &generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}
	if err := store.CompleteWithOptions(options); err != nil {
		return nil, nil, err
	}

	statusStore := *store
	statusStrategy := StatusStrategy{strategy}
	statusStore.UpdateStrategy = statusStrategy
	statusStore.ResetFieldsStrategy = statusStrategy
	return &REST{registry.EtcdErrorStore{Store: store}}, &StatusREST{store: registry.EtcdErrorStore{Store: &statusStore}}, nil
}

// Categories puts Shoots under "kubectl get gardener".
func (*REST) Categories() []string { return []string{"gardener"} }

// New returns an empty Shoot.
func (r *StatusREST) New() runtime.Object { return &core.Shoot{} }

// Destroy does nothing: the main store owns the storage.
func (r *StatusREST) Destroy() {}

// Get returns the Shoot, so that PATCH works on the status.
func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

// Update writes the status only.
func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// Status never creates an object.
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

// GetResetFields implements rest.ResetFieldsStrategy for server-side apply.
func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// ConvertToTable prints the status like the main resource.
func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}
