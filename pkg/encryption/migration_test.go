package encryption

import (
	"context"
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/storage/value"

	"github.com/garden-apiserver/garden-apiserver/pkg/storagecodec"
)

// markedProtobuf is a protobuf envelope as the storage codec writes it: Gardener's field
// numbers, marked in the envelope's content type.
var markedProtobuf = "k8s\x00\x0a\x02v1\x22" + string(rune(len(storagecodec.FieldsMarker))) + storagecodec.FieldsMarker

// storageCodecWriting is the server's storage codec (over an empty scheme: only its judgement
// of stored values is used here) writing mediaType.
func storageCodecWriting(t *testing.T, mediaType string) *storagecodec.Codec {
	t.Helper()
	gv := schema.GroupVersion{Group: secrets.Group, Version: "v1beta1"}
	c, err := storagecodec.New(mediaType, serializer.NewCodecFactory(runtime.NewScheme()), gv, gv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Encrypted values: the transformer only decrypts (a value in another format is not stale to
// it); the migrator asks the storage codec about the format after decryption, so values in
// another format or with the earlier protobuf numbering are rewritten, under either write
// media type.
func TestNeedsRewriteJudgesFormatAfterDecryption(t *testing.T) {
	l := load(t, providerConfig(keyed("aescbc", "k1")))
	lib := l.transformer(secrets)
	pb, legacy, js := []byte(markedProtobuf), []byte("k8s\x00\x0a\x02v1"), []byte(`{"kind":"InternalSecret"}`)
	for _, tc := range []struct {
		write    string
		plain    []byte
		storedAs string
		rewrite  bool
	}{
		{runtime.ContentTypeProtobuf, pb, runtime.ContentTypeProtobuf, false},
		{runtime.ContentTypeProtobuf, legacy, storagecodec.LegacyProtobuf, true},
		{runtime.ContentTypeProtobuf, js, runtime.ContentTypeJSON, true},
		{runtime.ContentTypeJSON, js, runtime.ContentTypeJSON, false},
		{runtime.ContentTypeJSON, pb, runtime.ContentTypeProtobuf, true},
	} {
		ctx, dataCtx := context.Background(), value.DefaultContext("/k")
		enc, err := lib.TransformToStorage(ctx, tc.plain, dataCtx)
		if err != nil {
			t.Fatal(err)
		}
		r := &resource{gr: secrets, t: over(l), codec: storageCodecWriting(t, tc.write)}
		out, stale, err := r.t.TransformFromStorage(ctx, enc, dataCtx)
		if err != nil || stale || string(out) != string(tc.plain) {
			t.Errorf("%q: the transformer read stale=%v err=%v, want the value, not stale", tc.plain, stale, err)
		}
		storedAs, rewrite, err := (&migrator{}).needsRewrite(ctx, r, &mvccpb.KeyValue{Key: []byte("/k"), Value: enc})
		if err != nil || storedAs != tc.storedAs || rewrite != tc.rewrite {
			t.Errorf("writing %s, stored %q: storedAs=%q rewrite=%v err=%v, want %q %v", tc.write, tc.plain, storedAs, rewrite, err, tc.storedAs, tc.rewrite)
		}
	}
}

// A value under an old key needs a rewrite whatever its format.
func TestNeedsRewriteOnOldKey(t *testing.T) {
	old, cur := load(t, providerConfig(keyed("aescbc", "old"))), load(t, providerConfig(keyed("aescbc", "new")))
	ctx, dataCtx := context.Background(), value.DefaultContext("/k")
	enc, err := old.transformer(secrets).TransformToStorage(ctx, []byte(markedProtobuf), dataCtx)
	if err != nil {
		t.Fatal(err)
	}
	r := &resource{gr: secrets, t: over(cur, old), codec: storageCodecWriting(t, runtime.ContentTypeProtobuf)}
	storedAs, rewrite, err := (&migrator{}).needsRewrite(ctx, r, &mvccpb.KeyValue{Key: []byte("/k"), Value: enc})
	if err != nil || storedAs != runtime.ContentTypeProtobuf || !rewrite {
		t.Errorf("storedAs=%q rewrite=%v err=%v, want protobuf, rewrite", storedAs, rewrite, err)
	}
}
