package compat

import (
	"math/rand"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/diff"
	"sigs.k8s.io/randfill"
)

// fuzzIterations per kind, direction and wire format. With 200 every leaf field of our kinds is
// set many times over (the tests check that each one was set at least once).
const fuzzIterations = 200

// seed is random per run unless COMPAT_SEED repeats a failed one.
func seed(t *testing.T) int64 {
	s := time.Now().UnixNano()
	if v := os.Getenv("COMPAT_SEED"); v != "" {
		var err error
		if s, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("COMPAT_SEED: %v", err)
		}
	}
	t.Logf("seed %d (COMPAT_SEED=%d repeats this run)", s, s)
	return s
}

// newFiller is apimachinery's round-trip fuzzer (valid metadata, RawExtension, Quantity),
// with fewer nils and at least one element per list and map, so every field gets values.
func newFiller(seed int64, s *runtime.Scheme) *randfill.Filler {
	funcs := fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, func(runtimeserializer.CodecFactory) []any {
		return []any{
			// metav1.Time fills itself only through a non-nil pointer, so *metav1.Time fields
			// would always stay nil.
			func(p **metav1.Time, c randfill.Continue) {
				if c.Intn(5) == 0 {
					*p = nil
					return
				}
				tm := metav1.Unix(c.Int63n(1000*365*24*60*60), 0)
				*p = &tm
			},
		}
	})
	return fuzzer.FuzzerFor(funcs, rand.NewSource(seed), codecsFor(s)).NilChance(.2).NumElements(1, 2)
}

func encode(t *testing.T, s runtime.Serializer, gvk schema.GroupVersionKind, obj runtime.Object) []byte {
	t.Helper()
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	data, err := runtime.Encode(s, obj)
	if err != nil {
		t.Fatalf("encoding %T: %v", obj, err)
	}
	return data
}

func decode(t *testing.T, s runtime.Serializer, data []byte, into runtime.Object, what string) {
	t.Helper()
	got, _, err := s.Decode(data, nil, into)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got != into {
		t.Fatalf("%s: decoded into %T, not the given %T", what, got, into)
	}
}

// requireEqual compares two objects of one type field by field, TypeMeta aside (protobuf does not
// carry it in the object).
func requireEqual(t *testing.T, want, got runtime.Object, format string, args ...any) {
	t.Helper()
	want, got = want.DeepCopyObject(), got.DeepCopyObject()
	want.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	got.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	if !apiequality.Semantic.DeepEqual(want, got) {
		t.Fatalf(format+" (- want, + got):\n%s", append(args, diff.Diff(want, got))...)
	}
}

func as(obj runtime.Object, like runtime.Object) runtime.Object {
	return project(reflect.ValueOf(obj), reflect.TypeOf(like)).Interface().(runtime.Object)
}

// TestOursThroughGardener fuzzes our objects, encodes them, decodes them with Gardener's types
// and checks every field Gardener read against what we wrote (so swapped field numbers fail even
// where a round trip would swap them back), then sends Gardener's object back and requires ours
// unchanged.
func TestOursThroughGardener(t *testing.T) {
	fuzzEach(t, oursScheme, func(t *testing.T, k kind, wf wireFormat, f *randfill.Filler, i int) runtime.Object {
		ours := k.newOurs()
		f.Fill(ours)
		g := k.newGardener()
		decode(t, wf.gardener, encode(t, wf.ours, k.gvk, ours), g, "Gardener decoding ours")
		requireEqual(t, ours, as(g, ours), "iteration %d: Gardener's %s read from ours differs", i, k.gvk.Kind)
		back := k.newOurs()
		decode(t, wf.ours, encode(t, wf.gardener, k.gvk, g), back, "decoding Gardener's")
		requireEqual(t, ours, back, "iteration %d: %s back from Gardener differs", i, k.gvk.Kind)
		return ours
	})
}

// TestGardenerThroughOurs fuzzes Gardener's complete objects (every field, ours or not), decodes
// them with our types (Gardener's other fields dropped) and compares with Gardener's object seen
// through our fields; then sends ours back and requires Gardener to read exactly those fields.
func TestGardenerThroughOurs(t *testing.T) {
	fuzzEach(t, gardenerScheme, func(t *testing.T, k kind, wf wireFormat, f *randfill.Filler, i int) runtime.Object {
		g := k.newGardener()
		f.Fill(g)
		want := as(g, k.ours)
		got := k.newOurs()
		decode(t, wf.ours, encode(t, wf.gardener, k.gvk, g), got, "decoding Gardener's")
		requireEqual(t, want, got, "iteration %d: our %s read from Gardener's differs", i, k.gvk.Kind)
		back := k.newGardener()
		decode(t, wf.gardener, encode(t, wf.ours, k.gvk, got), back, "Gardener decoding ours")
		requireEqual(t, as(want, k.gardener), back, "iteration %d: Gardener's %s back from ours differs", i, k.gvk.Kind)
		return want
	})
}

// fuzzEach runs check fuzzIterations times for every shared kind and wire format, with a filler
// over fill's types. check returns the object of ours it compared; a field of ours that no
// iteration set fails the test, since nothing checked it.
func fuzzEach(t *testing.T, fill *runtime.Scheme, check func(t *testing.T, k kind, wf wireFormat, f *randfill.Filler, i int) runtime.Object) {
	for _, k := range sharedKinds {
		for _, wf := range wireFormats {
			t.Run(k.gvk.Kind+"/"+wf.name, func(t *testing.T) {
				f := newFiller(seed(t), fill)
				set := map[string]bool{}
				for i := range fuzzIterations {
					setLeaves(reflect.ValueOf(check(t, k, wf, f, i)), set)
				}
				if missing := unset(reflect.TypeOf(k.ours), set); len(missing) > 0 {
					t.Fatalf("the fuzzer never set %v: nothing checked them", missing)
				}
			})
		}
	}
}
