package monitoring

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/component-base/metrics/testutil"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// fakeLister serves a fixed list and counts the calls.
type fakeLister struct {
	list  *core.InternalSecretList
	calls int
}

func (f *fakeLister) NewList() runtime.Object { return &core.InternalSecretList{} }
func (f *fakeLister) List(context.Context, *metainternalversion.ListOptions) (runtime.Object, error) {
	f.calls++
	return f.list, nil
}
func (f *fakeLister) ConvertToTable(context.Context, runtime.Object, runtime.Object) (*metav1.Table, error) {
	return nil, nil
}

func caSecret(t *testing.T, name string, validity time.Duration, rv string) core.InternalSecret {
	t.Helper()
	ca, err := pki.NewCA(name, validity)
	require.NoError(t, err)
	key, err := pki.EncodeKey(ca.Key)
	require.NoError(t, err)
	return core.InternalSecret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "garden-dev", UID: types.UID(name), ResourceVersion: rv},
		Data:       map[string][]byte{"ca.crt": pki.EncodeCert(ca.Cert), "ca.key": key},
	}
}

func TestShootCAExpiryBuckets(t *testing.T) {
	other := caSecret(t, "s1.ca-client", 2*time.Hour, "1")
	items := []core.InternalSecret{
		caSecret(t, "s2.ca-client", 3*24*time.Hour, "2"),
		caSecret(t, "s3.ca-client", 20*24*time.Hour, "3"),
		caSecret(t, "s4.ca-client", 365*24*time.Hour, "4"),
		caSecret(t, "s1.ca-cluster", time.Hour, "5"), // not a client CA: ignored
		{ObjectMeta: metav1.ObjectMeta{Name: "broken.ca-client", UID: "broken", ResourceVersion: "6"}, Data: map[string][]byte{"ca.crt": []byte("x")}},
	}
	// A key that matches no certificate of the bundle makes the CA unusable.
	mismatched := caSecret(t, "s5.ca-client", time.Hour, "7")
	mismatched.Data["ca.key"] = other.Data["ca.key"]
	items = append(items, other, mismatched)

	lister := &fakeLister{list: &core.InternalSecretList{Items: items}}
	c := newCAExpiry(lister, time.Minute)
	now := time.Now()
	c.now = func() time.Time { return now }

	err := testutil.CustomCollectAndCompare(c, strings.NewReader(`
# HELP garden_apiserver_shoot_client_ca_expiring [ALPHA] Shoot client CAs (InternalSecrets <shoot>.ca-client) whose signing certificate expires within the window (expired, 1d, 7d, 30d; cumulative).
# TYPE garden_apiserver_shoot_client_ca_expiring gauge
garden_apiserver_shoot_client_ca_expiring{within="expired"} 0
garden_apiserver_shoot_client_ca_expiring{within="1d"} 1
garden_apiserver_shoot_client_ca_expiring{within="7d"} 2
garden_apiserver_shoot_client_ca_expiring{within="30d"} 3
# HELP garden_apiserver_shoot_client_cas [ALPHA] Shoot client CAs stored, by state: usable (a certificate matches ca.key) or unusable (no such certificate).
# TYPE garden_apiserver_shoot_client_cas gauge
garden_apiserver_shoot_client_cas{state="usable"} 4
garden_apiserver_shoot_client_cas{state="unusable"} 2
`), "garden_apiserver_shoot_client_ca_expiring", "garden_apiserver_shoot_client_cas")
	require.NoError(t, err)
	require.Equal(t, 1, lister.calls)

	s, ok := c.current()
	require.True(t, ok)
	require.Equal(t, 1, lister.calls, "a second scrape within minAge must not list again")
	require.WithinDuration(t, now.Add(2*time.Hour), s.earliest, 2*time.Minute)

	// Three hours later the first CA has expired; the cached parse is reused for unchanged objects.
	now = now.Add(3 * time.Hour)
	s, ok = c.current()
	require.True(t, ok)
	require.Equal(t, 2, lister.calls)
	require.Equal(t, []int{1, 1, 2, 3}, s.within)
	require.True(t, s.earliest.Before(now))
}

func TestShootCAExpiryWithoutCAs(t *testing.T) {
	c := newCAExpiry(&fakeLister{list: &core.InternalSecretList{}}, time.Minute)
	err := testutil.CustomCollectAndCompare(c, strings.NewReader(`
# HELP garden_apiserver_shoot_client_cas [ALPHA] Shoot client CAs stored, by state: usable (a certificate matches ca.key) or unusable (no such certificate).
# TYPE garden_apiserver_shoot_client_cas gauge
garden_apiserver_shoot_client_cas{state="usable"} 0
garden_apiserver_shoot_client_cas{state="unusable"} 0
`), "garden_apiserver_shoot_client_cas", "garden_apiserver_shoot_client_ca_earliest_expiry_timestamp_seconds")
	require.NoError(t, err, "no earliest expiry without CAs")
}
