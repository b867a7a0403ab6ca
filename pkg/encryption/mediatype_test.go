package encryption

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/storage/value"

	"github.com/garden-apiserver/garden-apiserver/pkg/storagecodec"
)

// markedProtobuf is a protobuf envelope as the storage codec writes it: Gardener's field
// numbers, marked in the envelope's content type.
var markedProtobuf = "k8s\x00\x0a\x02v1\x22" + string(rune(len(storagecodec.FieldsMarker))) + storagecodec.FieldsMarker

func TestStoredMediaType(t *testing.T) {
	for in, want := range map[string]string{
		markedProtobuf:                     runtime.ContentTypeProtobuf,
		"k8s\x00\x0a\x02v1":                storagecodec.LegacyProtobuf,
		`{"kind":"InternalSecret"}` + "\n": runtime.ContentTypeJSON,
		" \n{}":                            runtime.ContentTypeJSON,
		"kind: InternalSecret\n":           runtime.ContentTypeYAML,
	} {
		if got := storedMediaType([]byte(in)); got != want {
			t.Errorf("storedMediaType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteMediaType(t *testing.T) {
	for in, want := range map[string]string{
		"application/vnd.kubernetes.protobuf": runtime.ContentTypeProtobuf,
		"application/json; charset=utf-8":     runtime.ContentTypeJSON,
		"":                                    "",
	} {
		if got := writeMediaType(in); got != want {
			t.Errorf("writeMediaType(%q) = %q, want %q", in, got, want)
		}
	}
}

// A value in another format than the server writes reads as stale (so it is rewritten), in
// both directions, and is returned unchanged.
func TestTransformerStaleOnOtherFormat(t *testing.T) {
	pb, legacy, js := []byte(markedProtobuf), []byte("k8s\x00\x0a\x02v1"), []byte(`{"kind":"InternalSecret"}`)
	for _, tc := range []struct {
		write string
		in    []byte
		stale bool
	}{
		{runtime.ContentTypeProtobuf, pb, false},
		{runtime.ContentTypeProtobuf, js, true},
		{runtime.ContentTypeProtobuf, legacy, true},
		{runtime.ContentTypeJSON, legacy, true},
		{runtime.ContentTypeJSON, js, false},
		{runtime.ContentTypeJSON, pb, true},
		{"", js, false},
	} {
		tr := over(unencrypted)
		tr.mediaType = tc.write
		out, stale, err := tr.TransformFromStorage(context.Background(), tc.in, value.DefaultContext("/k"))
		if err != nil || stale != tc.stale || string(out) != string(tc.in) {
			t.Errorf("writing %q, read %q: stale=%v err=%v, want stale=%v", tc.write, tc.in, stale, err, tc.stale)
		}
	}
}

// Encrypted protobuf: the format is judged after decryption.
func TestTransformerFormatAfterDecryption(t *testing.T) {
	l := load(t, providerConfig(keyed("aescbc", "k1")))
	lib := l.transformer(secrets)
	tr := over(l)
	tr.mediaType = runtime.ContentTypeProtobuf
	for _, tc := range []struct {
		plain []byte
		stale bool
	}{{[]byte(markedProtobuf), false}, {[]byte("k8s\x00\x0a\x02v1"), true}, {[]byte(`{"kind":"InternalSecret"}`), true}} {
		enc, err := lib.TransformToStorage(context.Background(), tc.plain, value.DefaultContext("/k"))
		if err != nil {
			t.Fatal(err)
		}
		out, stale, err := tr.TransformFromStorage(context.Background(), enc, value.DefaultContext("/k"))
		if err != nil || stale != tc.stale || string(out) != string(tc.plain) {
			t.Errorf("%q: stale=%v err=%v, want stale=%v", tc.plain, stale, err, tc.stale)
		}
	}
}
