package integration

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/storagebackend"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
	"github.com/garden-apiserver/garden-apiserver/pkg/registry/internalsecret"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// BenchmarkInternalSecretListByType lists the InternalSecrets of one type (1 in 100) out of
// INDEX_BENCH_OBJECTS (default 100,000) in a real etcd, through the registry store and its
// watch cache: the server's store, whose cache is indexed by type, against the same store
// without the index. Run:
// go test ./test/integration -run '^$' -bench ListByType -benchtime 20x
func BenchmarkInternalSecretListByType(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("INDEX_BENCH_OBJECTS")); err == nil && v > 0 {
		n = v
	}
	e := framework.StartEtcd(b)
	getter := benchRESTOptions(e.Endpoint)
	indexed, err := internalsecret.NewREST(apiserver.Scheme, getter)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(indexed.DestroyFunc)
	b.Logf("created %d InternalSecrets in %s", n, loadSecrets(b, indexed, n).Round(time.Millisecond))
	unindexed := unindexedStore(b, getter)

	selector := fields.OneTermEqualSelector(internalsecret.TypeField, string(corev1.SecretTypeTLS))
	for _, tc := range []struct {
		name  string
		store rest.Lister
	}{{"indexed", indexed}, {"unindexed", unindexed}} {
		want := n / 100
		waitForList(b, tc.store, selector, want)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if got := listCount(b, tc.store, selector); got != want {
					b.Fatalf("listed %d, want %d", got, want)
				}
			}
			b.ReportMetric(float64(n), "objects")
		})
	}
}

func benchRESTOptions(endpoint string) generic.RESTOptions {
	cfg := storagebackend.NewDefaultConfig("/registry-bench", apiserver.Codecs.LegacyCodec(v1beta1.SchemeGroupVersion))
	cfg.Transport.ServerList = []string{endpoint}
	return generic.RESTOptions{
		StorageConfig:           cfg.ForResource(core.Resource("internalsecrets")),
		Decorator:               genericregistry.StorageWithCacher(),
		DeleteCollectionWorkers: 1,
		ResourcePrefix:          "internalsecrets",
	}
}

// unindexedStore is the server's store minus the type index and trigger.
func unindexedStore(b *testing.B, getter generic.RESTOptionsGetter) *genericregistry.Store {
	strategy := internalsecret.NewStrategy(apiserver.Scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &core.InternalSecret{} },
		NewListFunc:               func() runtime.Object { return &core.InternalSecretList{} },
		PredicateFunc:             internalsecret.Match,
		DefaultQualifiedResource:  core.Resource("internalsecrets"),
		SingularQualifiedResource: core.Resource("internalsecret"),
		CreateStrategy:            strategy,
		UpdateStrategy:            strategy,
		DeleteStrategy:            strategy,
		TableConvertor:            rest.NewDefaultTableConvertor(core.Resource("internalsecrets")),
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: getter, AttrFunc: internalsecret.GetAttrs}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(store.DestroyFunc)
	return store
}

// loadSecrets creates n InternalSecrets over 100 namespaces, every 100th of type TLS, with
// 32 writers; it returns the elapsed time.
func loadSecrets(b *testing.B, store rest.Creater, n int) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n && failed.Load() == nil; i = int(next.Add(1) - 1) {
				s := &core.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s-%06d", i), Namespace: fmt.Sprintf("garden-p%02d", i%100)},
					Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("value")}}
				if i%100 == 0 {
					s.Type, s.Data = corev1.SecretTypeTLS, map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")}
				}
				ctx := genericapirequest.WithNamespace(context.Background(), s.Namespace)
				if _, err := store.Create(ctx, s, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
					failed.Store(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

func listCount(b *testing.B, store rest.Lister, selector fields.Selector) int {
	n, err := tryList(store, selector)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func tryList(store rest.Lister, selector fields.Selector) (int, error) {
	obj, err := store.List(genericapirequest.NewContext(), &metainternalversion.ListOptions{FieldSelector: selector})
	if err != nil {
		return 0, err
	}
	return len(obj.(*core.InternalSecretList).Items), nil
}

// waitForList waits for the store's watch cache to be ready and hold everything.
func waitForList(b *testing.B, store rest.Lister, selector fields.Selector, want int) {
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		got, err := tryList(store, selector)
		return err == nil && got == want, nil
	})
	if err != nil {
		b.Fatalf("list never returned %d items: %v", want, err)
	}
}
