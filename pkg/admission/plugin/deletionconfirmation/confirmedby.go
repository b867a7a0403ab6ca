package deletionconfirmation

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apiserver/pkg/admission"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// ConfirmedByAnnotation names the user who confirmed a Shoot's deletion, as in Gardener.
const ConfirmedByAnnotation = "deletion.gardener.cloud/confirmed-by"

var _ admission.MutationInterface = &Plugin{}

// Admit records who set the confirmation: the user of the write that turns it on. The server
// owns the annotation: a client's value is replaced, kept from the stored object while the
// confirmation stays, and removed with the confirmation.
func (p *Plugin) Admit(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetOperation() == admission.Delete || a.GetSubresource() != "" || a.GetResource().GroupResource() != core.Resource("shoots") {
		return nil
	}
	obj, err := meta.Accessor(a.GetObject())
	if err != nil {
		return apierrors.NewBadRequest("object does not have metadata")
	}
	annotations := obj.GetAnnotations()
	if !confirmed(annotations) {
		delete(annotations, ConfirmedByAnnotation)
		return nil
	}
	by := a.GetUserInfo().GetName()
	if a.GetOperation() == admission.Update {
		old, err := meta.Accessor(a.GetOldObject())
		if err != nil {
			return apierrors.NewBadRequest("stored object does not have metadata")
		}
		if confirmed(old.GetAnnotations()) {
			// Confirmed earlier: keep who did it (nobody, if it predates this annotation).
			var ok bool
			if by, ok = old.GetAnnotations()[ConfirmedByAnnotation]; !ok {
				delete(annotations, ConfirmedByAnnotation)
				return nil
			}
		}
	}
	annotations[ConfirmedByAnnotation] = by
	obj.SetAnnotations(annotations)
	return nil
}
