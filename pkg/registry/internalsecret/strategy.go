// Package internalsecret is the registry of InternalSecrets: strategy and etcd storage.
package internalsecret

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/validation"
)

// Strategy implements create, update and delete behaviour for InternalSecrets.
type Strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

// The generic store calls the strategies through these interfaces.
var (
	_ rest.RESTCreateStrategy = Strategy{}
	_ rest.RESTUpdateStrategy = Strategy{}
	_ rest.RESTDeleteStrategy = Strategy{}
)

// NewStrategy returns the strategy for the given scheme.
func NewStrategy(typer runtime.ObjectTyper) Strategy {
	return Strategy{typer, names.SimpleNameGenerator}
}

// NamespaceScoped is true: InternalSecrets live in project namespaces.
func (Strategy) NamespaceScoped() bool { return true }

// PrepareForCreate defaults the type to Opaque.
func (Strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	s := obj.(*core.InternalSecret)
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
}

// PrepareForUpdate keeps the stored type when the update leaves it empty.
func (Strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newS, oldS := obj.(*core.InternalSecret), old.(*core.InternalSecret)
	if newS.Type == "" {
		newS.Type = oldS.Type
	}
}

// Validate validates a new InternalSecret.
func (Strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateInternalSecret(obj.(*core.InternalSecret))
}

// ValidateUpdate validates an update.
func (Strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateInternalSecretUpdate(obj.(*core.InternalSecret), old.(*core.InternalSecret))
}

// WarningsOnCreate returns no warnings.
func (Strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }

// WarningsOnUpdate returns no warnings.
func (Strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

// Canonicalize does nothing.
func (Strategy) Canonicalize(runtime.Object) {}

// AllowCreateOnUpdate is false: PUT of a missing object is 404.
func (Strategy) AllowCreateOnUpdate(context.Context) bool { return false }

// AllowUnconditionalUpdate allows updates without a resourceVersion, as for Secrets.
func (Strategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// GetAttrs returns labels and the selectable fields of an InternalSecret.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	s, ok := obj.(*core.InternalSecret)
	if !ok {
		return nil, nil, fmt.Errorf("not an InternalSecret: %T", obj)
	}
	return s.Labels, SelectableFields(s), nil
}

// SelectableFields are metadata.name, metadata.namespace and type.
func SelectableFields(s *core.InternalSecret) fields.Set {
	return generic.AddObjectMetaFieldsSet(fields.Set{"type": string(s.Type)}, &s.ObjectMeta, true)
}

// Match returns the predicate for label and field selectors.
func Match(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs, IndexFields: []string{TypeField}}
}
