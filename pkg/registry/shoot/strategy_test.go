package shoot

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

func newShoot(version string) *core.Shoot {
	return &core.Shoot{Spec: core.ShootSpec{Kubernetes: core.Kubernetes{Version: version}}}
}

func TestSpecAndStatusStaySeparate(t *testing.T) {
	ctx := context.Background()
	st := NewStrategy(runtime.NewScheme())

	created := newShoot("1.31.0")
	created.Status.ObservedGeneration = 7
	st.PrepareForCreate(ctx, created)
	assert.EqualValues(t, 1, created.Generation)
	assert.Zero(t, created.Status.ObservedGeneration, "status is not set on create")

	old := created.DeepCopy()
	old.Status.AdvertisedAddresses = []core.ShootAdvertisedAddress{{Name: "external", URL: "https://a"}}

	// A spec write keeps the stored status and bumps the generation.
	specWrite := old.DeepCopy()
	specWrite.Spec.Kubernetes.Version = "1.31.1"
	specWrite.Status = core.ShootStatus{}
	st.PrepareForUpdate(ctx, specWrite, old)
	assert.EqualValues(t, 2, specWrite.Generation)
	assert.Equal(t, old.Status, specWrite.Status)

	// A metadata-only write does not bump the generation.
	meta := old.DeepCopy()
	meta.Labels = map[string]string{"a": "b"}
	st.PrepareForUpdate(ctx, meta, old)
	assert.EqualValues(t, 1, meta.Generation)

	// A status write keeps the stored spec and generation.
	statusWrite := old.DeepCopy()
	statusWrite.Spec.Kubernetes.Version = "9.9.9"
	statusWrite.Generation = 42
	statusWrite.Status.ObservedGeneration = 1
	StatusStrategy{st}.PrepareForUpdate(ctx, statusWrite, old)
	assert.Equal(t, "1.31.0", statusWrite.Spec.Kubernetes.Version)
	assert.EqualValues(t, 1, statusWrite.Generation)
	assert.EqualValues(t, 1, statusWrite.Status.ObservedGeneration)
}

func TestResetFields(t *testing.T) {
	st := NewStrategy(runtime.NewScheme())
	assert.True(t, st.GetResetFields()[fieldManagerVersion].Has(pathOf("status")))
	assert.True(t, StatusStrategy{st}.GetResetFields()[fieldManagerVersion].Has(pathOf("spec")))
}

func pathOf(name string) fieldpath.Path { return fieldpath.MakePathOrDie(name) }

// A status write cannot confirm a deletion or forge who confirmed it; other annotations pass.
func TestStatusKeepsDeletionAnnotations(t *testing.T) {
	old := newShoot("1.31.0")
	old.Annotations = map[string]string{"deletion.gardener.cloud/confirmed-by": "alice", "confirmation.gardener.cloud/deletion": "true"}
	forged := old.DeepCopy()
	forged.Annotations = map[string]string{"deletion.gardener.cloud/confirmed-by": "mallory", "other": "x"}
	StatusStrategy{}.PrepareForUpdate(context.Background(), forged, old)
	assert.Equal(t, map[string]string{"deletion.gardener.cloud/confirmed-by": "alice", "confirmation.gardener.cloud/deletion": "true", "other": "x"}, forged.Annotations)

	unconfirmed := newShoot("1.31.0")
	added := unconfirmed.DeepCopy()
	added.Annotations = map[string]string{"confirmation.gardener.cloud/deletion": "true", "deletion.gardener.cloud/confirmed-by": "mallory"}
	StatusStrategy{}.PrepareForUpdate(context.Background(), added, unconfirmed)
	assert.Empty(t, added.Annotations)
}
