package internalsecret

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/registry"
)

// REST is the etcd storage of InternalSecrets.
type REST struct {
	registry.EtcdErrorStore
}

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// NewREST returns the storage backed by the given options (etcd, watch cache, encryption).
func NewREST(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (*REST, error) {
	strategy := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &core.InternalSecret{} },
		NewListFunc:               func() runtime.Object { return &core.InternalSecretList{} },
		PredicateFunc:             Match,
		DefaultQualifiedResource:  core.Resource("internalsecrets"),
		SingularQualifiedResource: core.Resource("internalsecret"),

		CreateStrategy: strategy,
		UpdateStrategy: strategy,
		DeleteStrategy: strategy,

		TableConvertor: registry.TableConvertor{
			Columns: []metav1.TableColumnDefinition{
				{Name: "Type", Type: "string", Description: "The type of the secret data."},
				{Name: "Data", Type: "integer", Description: "The number of entries in data."},
			},
			Cells: func(obj runtime.Object) ([]interface{}, error) {
				s := obj.(*core.InternalSecret)
				return []interface{}{string(s.Type), int64(len(s.Data))}, nil
			},
		},
	}
	options := &generic.StoreOptions{
		RESTOptions: optsGetter,
		AttrFunc:    GetAttrs,
		TriggerFunc: storage.IndexerFuncs{TypeField: TypeTriggerFunc},
		Indexers:    Indexers(),
	}
	if err := store.CompleteWithOptions(options); err != nil {
		return nil, err
	}
	return &REST{registry.EtcdErrorStore{Store: store}}, nil
}

// ShortNames lets kubectl resolve "ins".
func (*REST) ShortNames() []string { return []string{"ins"} }

// Categories puts InternalSecrets under "kubectl get gardener".
func (*REST) Categories() []string { return []string{"gardener"} }
