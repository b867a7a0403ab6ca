// Package deletionconfirmation contains the DeletionConfirmation admission plugin: a Shoot is
// deleted only when it carries confirmation.gardener.cloud/deletion=true, as in Gardener.
package deletionconfirmation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/admission"

	"github.com/garden-apiserver/garden-apiserver/pkg/admission/initializer"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

const (
	// PluginName is the name of the plugin in --enable-admission-plugins and friends.
	PluginName = "DeletionConfirmation"
	// Annotation must be "true" on a Shoot before it can be deleted.
	Annotation = "confirmation.gardener.cloud/deletion"
)

// Register registers the plugin.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(), nil })
}

// Plugin denies deletion of unconfirmed Shoots and records who confirmed.
type Plugin struct {
	*admission.Handler
	initializer.ShootReader
}

var (
	_ admission.ValidationInterface        = &Plugin{}
	_ initializer.WantsCoreInformerFactory = &Plugin{}
	_ initializer.WantsCoreClientSet       = &Plugin{}
)

// New returns the plugin; it needs the core informer factory and client before use.
func New() *Plugin {
	h := admission.NewHandler(admission.Create, admission.Update, admission.Delete)
	return &Plugin{Handler: h, ShootReader: initializer.NewShootReader(h)}
}

// Validate denies deleting a Shoot that is not confirmed. The storage calls it with the very
// object it is deleting (and again if that changes meanwhile), so the annotation must have
// been stored before the DELETE; a deletecollection also needs every Shoot of the namespace
// confirmed.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetOperation() != admission.Delete || a.GetResource().GroupResource() != core.Resource("shoots") || a.GetSubresource() != "" {
		return nil
	}
	shoot, ok := a.GetOldObject().(*core.Shoot)
	if !ok {
		return apierrors.NewInternalError(fmt.Errorf("DeletionConfirmation: expected the stored Shoot, got %T", a.GetOldObject()))
	}
	if !Confirmed(shoot) {
		// Named after the stored object: collection requests carry no name.
		return apierrors.NewForbidden(a.GetResource().GroupResource(), shoot.Name,
			fmt.Errorf("deletion of Shoot %s/%s is not confirmed: set the annotation %s=true first, e.g. %s",
				shoot.Namespace, shoot.Name, Annotation, hint(shoot.Namespace, shoot.Name)))
	}
	if a.GetName() != "" {
		return nil
	}
	return p.validateCollection(ctx, a, shoot)
}

// validateCollection: admission does not see the deletecollection's selector, so (like
// Gardener) every Shoot in the namespace must be confirmed; otherwise the confirmed ones would
// be deleted and the unconfirmed ones refused, leaving a half-deleted collection.
func (p *Plugin) validateCollection(ctx context.Context, a admission.Attributes, item *core.Shoot) error {
	forbidden := func(err error) error { return apierrors.NewForbidden(a.GetResource().GroupResource(), item.Name, err) }
	if !p.WaitForReady() {
		return forbidden(errors.New("not yet ready to handle request"))
	}
	all, err := p.Lister.Shoots(a.GetNamespace()).List(labels.Everything())
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	var unconfirmed []string
	for _, s := range all {
		// The item itself was checked on its stored version above.
		if s.Name == item.Name || confirmed(s.Annotations) {
			continue
		}
		// The cache may not have seen a confirmation set a moment ago: ask the storage.
		live, err := p.Client.CoreV1beta1().Shoots(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return apierrors.NewInternalError(err)
		case !confirmed(live.Annotations):
			unconfirmed = append(unconfirmed, s.Name)
		}
	}
	if len(unconfirmed) == 0 {
		return nil
	}
	slices.Sort(unconfirmed)
	return forbidden(fmt.Errorf("deletecollection needs every Shoot in namespace %q confirmed; not confirmed: %s; set %s=true on each first, e.g. %s",
		a.GetNamespace(), strings.Join(unconfirmed, ", "), Annotation, hint(a.GetNamespace(), unconfirmed[0])))
}

// Confirmed reports whether the Shoot carries a true deletion confirmation.
func Confirmed(s metav1.Object) bool { return confirmed(s.GetAnnotations()) }

func confirmed(annotations map[string]string) bool {
	ok, err := strconv.ParseBool(annotations[Annotation])
	return err == nil && ok
}

func hint(namespace, name string) string {
	return fmt.Sprintf("kubectl annotate shoot %s -n %s %s=true", name, namespace, Annotation)
}
