// Package shoot is the registry of Shoots: spec and status strategies, etcd storage and
// the kubeconfig subresources.
package shoot

import (
	"context"
	"fmt"
	"k8s.io/apiserver/pkg/registry/rest"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/validation"
)

const fieldManagerVersion = "core.gardener.cloud/v1beta1"

// Strategy handles writes to the main resource: spec and metadata, never status.
type Strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

// The generic store calls the strategies through these interfaces.
var (
	_ rest.RESTCreateStrategy  = Strategy{}
	_ rest.RESTUpdateStrategy  = Strategy{}
	_ rest.RESTDeleteStrategy  = Strategy{}
	_ rest.ResetFieldsStrategy = Strategy{}

	_ rest.RESTUpdateStrategy  = StatusStrategy{}
	_ rest.ResetFieldsStrategy = StatusStrategy{}
)

// NewStrategy returns the strategy for the given scheme.
func NewStrategy(typer runtime.ObjectTyper) Strategy {
	return Strategy{typer, names.SimpleNameGenerator}
}

// NamespaceScoped is true: Shoots live in project namespaces.
func (Strategy) NamespaceScoped() bool { return true }

// GetResetFields tells server-side apply that status is not owned through the main resource.
func (Strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldManagerVersion: fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// PrepareForCreate starts at generation 1 with an empty status.
func (Strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	s := obj.(*core.Shoot)
	s.Generation = 1
	s.Status = core.ShootStatus{}
}

// PrepareForUpdate keeps the stored status and bumps the generation when the spec changes.
func (Strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newS, oldS := obj.(*core.Shoot), old.(*core.Shoot)
	newS.Status = oldS.Status
	if !apiequality.Semantic.DeepEqual(newS.Spec, oldS.Spec) {
		newS.Generation = oldS.Generation + 1
	}
}

// Validate validates a new Shoot.
func (Strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateShoot(obj.(*core.Shoot))
}

// ValidateUpdate validates an update of spec and metadata.
func (Strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateShootUpdate(obj.(*core.Shoot), old.(*core.Shoot))
}

// WarningsOnCreate returns no warnings.
func (Strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }

// WarningsOnUpdate returns no warnings.
func (Strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

// Canonicalize does nothing.
func (Strategy) Canonicalize(runtime.Object) {}

// AllowCreateOnUpdate is false.
func (Strategy) AllowCreateOnUpdate(context.Context) bool { return false }

// AllowUnconditionalUpdate is true, as for most Kubernetes resources.
func (Strategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// StatusStrategy handles writes to shoots/status: status only.
type StatusStrategy struct{ Strategy }

// GetResetFields tells server-side apply that spec is not owned through the status.
func (StatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldManagerVersion: fieldpath.NewSet(fieldpath.MakePathOrDie("spec")),
	}
}

// deletionAnnotations are set through the shoot itself only, where the DeletionConfirmation
// plugin records who confirmed; a status write cannot add, change or remove them.
var deletionAnnotations = []string{"confirmation.gardener.cloud/deletion", "deletion.gardener.cloud/confirmed-by"}

// PrepareForUpdate keeps the stored spec, generation and deletion annotations.
func (StatusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newS, oldS := obj.(*core.Shoot), old.(*core.Shoot)
	newS.Spec = oldS.Spec
	newS.Generation = oldS.Generation
	for _, k := range deletionAnnotations {
		v, ok := oldS.Annotations[k]
		switch {
		case ok:
			if newS.Annotations == nil {
				newS.Annotations = map[string]string{}
			}
			newS.Annotations[k] = v
		default:
			delete(newS.Annotations, k)
		}
	}
}

// ValidateUpdate validates the status.
func (StatusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateShootStatusUpdate(obj.(*core.Shoot), old.(*core.Shoot))
}

// GetAttrs returns labels and the selectable fields of a Shoot.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	s, ok := obj.(*core.Shoot)
	if !ok {
		return nil, nil, fmt.Errorf("not a Shoot: %T", obj)
	}
	return s.Labels, generic.ObjectMetaFieldsSet(&s.ObjectMeta, true), nil
}

// Match returns the predicate for label and field selectors.
func Match(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}
