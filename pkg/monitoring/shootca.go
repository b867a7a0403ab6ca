// Package monitoring exports the metrics the alerts of artifacts/monitoring need that no other
// package keeps: the expiry of the shoots' client CAs.
package monitoring

import (
	"context"
	"crypto"
	"strings"
	"sync"
	"time"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/types"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/shootaccess"
)

// Windows of the expiring gauge, cumulative: a CA that expired counts in every window.
var windows = []struct {
	label string
	d     time.Duration
}{{"expired", 0}, {"1d", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}}

var (
	expiringDesc = metrics.NewDesc("garden_apiserver_shoot_client_ca_expiring",
		"Shoot client CAs (InternalSecrets <shoot>.ca-client) whose signing certificate expires within the window (expired, 1d, 7d, 30d; cumulative).",
		[]string{"within"}, nil, metrics.ALPHA, "")
	earliestDesc = metrics.NewDesc("garden_apiserver_shoot_client_ca_earliest_expiry_timestamp_seconds",
		"Unix time at which the first shoot client CA expires; absent when there is none.",
		nil, nil, metrics.ALPHA, "")
	countDesc = metrics.NewDesc("garden_apiserver_shoot_client_cas",
		"Shoot client CAs stored, by state: usable (a certificate matches ca.key) or unusable (no such certificate).",
		[]string{"state"}, nil, metrics.ALPHA, "")
)

// caExpiry is a collector: it reads the InternalSecrets from the store's watch cache at scrape
// time, at most once per minAge, and keeps only the expiry of each CA, parsed once per
// resourceVersion. No secret data is copied or kept.
type caExpiry struct {
	metrics.BaseStableCollector
	list   rest.Lister
	minAge time.Duration
	now    func() time.Time

	mu       sync.Mutex
	at       time.Time
	notAfter map[types.UID]parsedCA
	summary  summary
}

type parsedCA struct {
	version  string
	notAfter time.Time // zero: unusable
}

type summary struct {
	within           []int
	usable, unusable int
	earliest         time.Time
}

// minAge is how long one computation serves scrapes: a full list of the watch cache per
// scrape would cost more than the figures are worth.
const minAge = 15 * time.Second

var (
	registered     *caExpiry
	registeredOnce sync.Once
)

// RegisterShootCAExpiry exports the client CA expiry metrics on /metrics, computed from the
// InternalSecret store. Several servers in one process (tests) share the registry: the one
// registered last is reported.
func RegisterShootCAExpiry(secrets rest.Lister) {
	registeredOnce.Do(func() {
		registered = newCAExpiry(nil, minAge)
		legacyregistry.CustomMustRegister(registered)
	})
	registered.setLister(secrets)
}

func newCAExpiry(secrets rest.Lister, minAge time.Duration) *caExpiry {
	return &caExpiry{list: secrets, minAge: minAge, now: time.Now, notAfter: map[types.UID]parsedCA{}}
}

func (c *caExpiry) setLister(secrets rest.Lister) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list, c.at, c.notAfter = secrets, time.Time{}, map[types.UID]parsedCA{}
}

func (c *caExpiry) DescribeWithStability(ch chan<- *metrics.Desc) {
	ch <- expiringDesc
	ch <- earliestDesc
	ch <- countDesc
}

func (c *caExpiry) CollectWithStability(ch chan<- metrics.Metric) {
	s, ok := c.current()
	if !ok {
		return // no figures rather than wrong ones; the scrape still succeeds
	}
	for i, w := range windows {
		ch <- metrics.NewLazyConstMetric(expiringDesc, metrics.GaugeValue, float64(s.within[i]), w.label)
	}
	ch <- metrics.NewLazyConstMetric(countDesc, metrics.GaugeValue, float64(s.usable), "usable")
	ch <- metrics.NewLazyConstMetric(countDesc, metrics.GaugeValue, float64(s.unusable), "unusable")
	if !s.earliest.IsZero() {
		ch <- metrics.NewLazyConstMetric(earliestDesc, metrics.GaugeValue, float64(s.earliest.Unix()))
	}
}

func (c *caExpiry) current() (summary, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.list == nil {
		return summary{}, false
	}
	if !c.at.IsZero() && now.Sub(c.at) < c.minAge {
		return c.summary, true
	}
	if err := c.refresh(now); err != nil {
		klog.ErrorS(err, "Listing InternalSecrets for the client CA expiry metrics failed")
		return summary{}, false
	}
	c.at = now
	return c.summary, true
}

// refresh lists every InternalSecret from the watch cache (resourceVersion 0) and recomputes.
func (c *caExpiry) refresh(now time.Time) error {
	ctx, cancel := context.WithTimeout(genericapirequest.WithNamespace(context.Background(), ""), 30*time.Second)
	defer cancel()
	obj, err := c.list.List(ctx, &metainternalversion.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return err
	}
	list, _ := obj.(*core.InternalSecretList)
	if list == nil {
		return nil
	}
	seen := make(map[types.UID]parsedCA, len(c.notAfter))
	for i := range list.Items {
		s := &list.Items[i]
		if !strings.HasSuffix(s.Name, shootaccess.ClientCASuffix) {
			continue
		}
		p, ok := c.notAfter[s.UID]
		if !ok || p.version != s.ResourceVersion {
			p = parsedCA{version: s.ResourceVersion, notAfter: signerNotAfter(s.Data[shootaccess.CACertKey], s.Data[shootaccess.CAKeyKey])}
		}
		seen[s.UID] = p
	}
	c.notAfter = seen
	c.summary = summarize(seen, now)
	return nil
}

func summarize(cas map[types.UID]parsedCA, now time.Time) summary {
	s := summary{within: make([]int, len(windows))}
	for _, p := range cas {
		if p.notAfter.IsZero() {
			s.unusable++
			continue
		}
		s.usable++
		if s.earliest.IsZero() || p.notAfter.Before(s.earliest) {
			s.earliest = p.notAfter
		}
		left := p.notAfter.Sub(now)
		for i, w := range windows {
			if left <= w.d {
				s.within[i]++
			}
		}
	}
	return s
}

// signerNotAfter returns the expiry of the certificate in certPEM whose public key matches
// keyPEM (the one issuance signs with; certPEM may be a rotation bundle), or zero when none does.
// Expired certificates count: their expiry is what the alert is about.
func signerNotAfter(certPEM, keyPEM []byte) time.Time {
	key, err := keyutil.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return time.Time{}
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return time.Time{}
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return time.Time{}
	}
	certs, err := cert.ParseCertsPEM(certPEM)
	if err != nil {
		return time.Time{}
	}
	for _, c := range certs {
		if c.IsCA && pub.Equal(c.PublicKey) {
			return c.NotAfter
		}
	}
	return time.Time{}
}
