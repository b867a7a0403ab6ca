package initializer

import (
	"errors"

	"k8s.io/apiserver/pkg/admission"

	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/informers/externalversions"
	listers "github.com/garden-apiserver/garden-apiserver/pkg/generated/listers/core/v1beta1"
)

// ShootReader is embedded by plugins that read Shoots: Lister from the shared cache, and
// Client for live reads when the cache may lag behind (a Shoot created or changed a moment
// ago). The plugin's Handler is ready once the Shoot cache has synced.
type ShootReader struct {
	handler *admission.Handler
	Lister  listers.ShootLister
	Client  versioned.Interface
}

var (
	_ WantsCoreInformerFactory = &ShootReader{}
	_ WantsCoreClientSet       = &ShootReader{}
)

// NewShootReader returns a reader that marks h ready when the Shoot cache has synced.
func NewShootReader(h *admission.Handler) ShootReader { return ShootReader{handler: h} }

// SetCoreInformerFactory takes the Shoot lister.
func (r *ShootReader) SetCoreInformerFactory(f externalversions.SharedInformerFactory) {
	informer := f.Core().V1beta1().Shoots()
	r.Lister = informer.Lister()
	r.handler.SetReadyFunc(informer.Informer().HasSynced)
}

// SetCoreClientSet takes the client for live reads.
func (r *ShootReader) SetCoreClientSet(c versioned.Interface) { r.Client = c }

// ValidateInitialization checks that the lister and the client were set.
func (r *ShootReader) ValidateInitialization() error {
	if r.Lister == nil {
		return errors.New("missing shoot lister")
	}
	if r.Client == nil {
		return errors.New("missing core client")
	}
	return nil
}
