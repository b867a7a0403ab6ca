package robustness

import (
	"context"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
)

// Resources the traffic writes.
const (
	InternalSecrets = "internalsecrets"
	Shoots          = "shoots"
)

// The value a write puts into an object: data["v"] of an InternalSecret, an annotation of a
// Shoot; a Shoot's status value is status.observedGeneration.
const valueAnnotation = "robustness.gardener.cloud/value"

// resource is what the traffic does with one resource through the generated clientset.
type resource interface {
	create(ctx context.Context, ns, key, main string) (runtime.Object, error)
	update(ctx context.Context, ns string, it Item, status bool) (runtime.Object, error)
	delete(ctx context.Context, ns, key string) error
	get(ctx context.Context, ns, key, rv string) (runtime.Object, error)
	list(ctx context.Context, ns string, opts metav1.ListOptions) (runtime.Object, error)
	watch(ctx context.Context, ns string, opts metav1.ListOptions) (watch.Interface, error)
}

func resourceOf(c versioned.Interface, name string) resource {
	if name == Shoots {
		return shoots{c}
	}
	return secrets{c}
}

type secrets struct{ c versioned.Interface }

func (r secrets) create(ctx context.Context, ns, key, main string) (runtime.Object, error) {
	return r.c.CoreV1beta1().InternalSecrets(ns).Create(ctx, secretObj(ns, Item{Key: key, Main: main}), metav1.CreateOptions{})
}

func (r secrets) update(ctx context.Context, ns string, it Item, _ bool) (runtime.Object, error) {
	return r.c.CoreV1beta1().InternalSecrets(ns).Update(ctx, secretObj(ns, it), metav1.UpdateOptions{})
}

func (r secrets) delete(ctx context.Context, ns, key string) error {
	return r.c.CoreV1beta1().InternalSecrets(ns).Delete(ctx, key, metav1.DeleteOptions{})
}

func (r secrets) get(ctx context.Context, ns, key, rv string) (runtime.Object, error) {
	return r.c.CoreV1beta1().InternalSecrets(ns).Get(ctx, key, metav1.GetOptions{ResourceVersion: rv})
}

func (r secrets) list(ctx context.Context, ns string, opts metav1.ListOptions) (runtime.Object, error) {
	return r.c.CoreV1beta1().InternalSecrets(ns).List(ctx, opts)
}

func (r secrets) watch(ctx context.Context, ns string, opts metav1.ListOptions) (watch.Interface, error) {
	return r.c.CoreV1beta1().InternalSecrets(ns).Watch(ctx, opts)
}

func secretObj(ns string, it Item) *v1beta1.InternalSecret {
	return &v1beta1.InternalSecret{
		ObjectMeta: metav1.ObjectMeta{Name: it.Key, Namespace: ns, ResourceVersion: rvString(it.RV)},
		Data:       map[string][]byte{"v": []byte(it.Main)},
	}
}

type shoots struct{ c versioned.Interface }

func (r shoots) create(ctx context.Context, ns, key, main string) (runtime.Object, error) {
	return r.c.CoreV1beta1().Shoots(ns).Create(ctx, shootObj(ns, Item{Key: key, Main: main}), metav1.CreateOptions{})
}

func (r shoots) update(ctx context.Context, ns string, it Item, status bool) (runtime.Object, error) {
	if status {
		return r.c.CoreV1beta1().Shoots(ns).UpdateStatus(ctx, shootObj(ns, it), metav1.UpdateOptions{})
	}
	return r.c.CoreV1beta1().Shoots(ns).Update(ctx, shootObj(ns, it), metav1.UpdateOptions{})
}

func (r shoots) delete(ctx context.Context, ns, key string) error {
	return r.c.CoreV1beta1().Shoots(ns).Delete(ctx, key, metav1.DeleteOptions{})
}

func (r shoots) get(ctx context.Context, ns, key, rv string) (runtime.Object, error) {
	return r.c.CoreV1beta1().Shoots(ns).Get(ctx, key, metav1.GetOptions{ResourceVersion: rv})
}

func (r shoots) list(ctx context.Context, ns string, opts metav1.ListOptions) (runtime.Object, error) {
	return r.c.CoreV1beta1().Shoots(ns).List(ctx, opts)
}

func (r shoots) watch(ctx context.Context, ns string, opts metav1.ListOptions) (watch.Interface, error) {
	return r.c.CoreV1beta1().Shoots(ns).Watch(ctx, opts)
}

// shootObj: deletion is confirmed from the start, so deletes pass the admission check.
func shootObj(ns string, it Item) *v1beta1.Shoot {
	gen, _ := strconv.ParseInt(it.Status, 10, 64)
	return &v1beta1.Shoot{
		ObjectMeta: metav1.ObjectMeta{Name: it.Key, Namespace: ns, ResourceVersion: rvString(it.RV),
			Annotations: map[string]string{"confirmation.gardener.cloud/deletion": "true", valueAnnotation: it.Main}},
		Spec:   v1beta1.ShootSpec{Kubernetes: v1beta1.Kubernetes{Version: "1.31.0"}},
		Status: v1beta1.ShootStatus{ObservedGeneration: gen},
	}
}

func rvString(rv int64) string {
	if rv == 0 {
		return ""
	}
	return strconv.FormatInt(rv, 10)
}

// itemOf reads name, resourceVersion and content of a returned object.
func itemOf(obj runtime.Object) (Item, bool) {
	var it Item
	var rv string
	switch o := obj.(type) {
	case *v1beta1.InternalSecret:
		it, rv = Item{Key: o.Name, Main: string(o.Data["v"])}, o.ResourceVersion
	case *v1beta1.Shoot:
		it, rv = Item{Key: o.Name, Main: o.Annotations[valueAnnotation]}, o.ResourceVersion
		if o.Status.ObservedGeneration != 0 {
			it.Status = strconv.FormatInt(o.Status.ObservedGeneration, 10)
		}
	default:
		return it, false
	}
	it.RV, _ = strconv.ParseInt(rv, 10, 64)
	return it, true
}

// itemsOf reads a list: its resourceVersion, continue token and items.
func itemsOf(obj runtime.Object) (rv int64, cont string, items []Item) {
	var meta metav1.ListMeta
	switch l := obj.(type) {
	case *v1beta1.InternalSecretList:
		meta = l.ListMeta
		for i := range l.Items {
			it, _ := itemOf(&l.Items[i])
			items = append(items, it)
		}
	case *v1beta1.ShootList:
		meta = l.ListMeta
		for i := range l.Items {
			it, _ := itemOf(&l.Items[i])
			items = append(items, it)
		}
	}
	rv, _ = strconv.ParseInt(meta.ResourceVersion, 10, 64)
	return rv, meta.Continue, items
}
