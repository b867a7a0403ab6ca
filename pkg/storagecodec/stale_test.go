package storagecodec_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
	"github.com/garden-apiserver/garden-apiserver/pkg/storagecodec"
)

// markedProtobuf is a protobuf envelope as the codec writes it: Gardener's field numbers,
// marked in the envelope's content type.
var markedProtobuf = "k8s\x00\x0a\x02v1\x22" + string(rune(len(storagecodec.FieldsMarker))) + storagecodec.FieldsMarker

func TestStoredMediaType(t *testing.T) {
	for in, want := range map[string]string{
		markedProtobuf:                     runtime.ContentTypeProtobuf,
		"k8s\x00\x0a\x02v1":                storagecodec.LegacyProtobuf,
		`{"kind":"InternalSecret"}` + "\n": runtime.ContentTypeJSON,
		" \n{}":                            runtime.ContentTypeJSON,
		"kind: InternalSecret\n":           runtime.ContentTypeYAML,
	} {
		assert.Equal(t, want, storagecodec.StoredMediaType([]byte(in)), "%q", in)
	}
}

// A value in another form than the codec writes is stale (so it is rewritten), in both
// directions: another media type, or protobuf with the earlier field numbers.
func TestStaleOnOtherFormat(t *testing.T) {
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
		{"application/json; charset=utf-8", js, false},
		{"application/json; charset=utf-8", pb, true},
	} {
		assert.Equal(t, tc.stale, codec(t, tc.write).Stale(tc.in), "writing %q, stored %q", tc.write, tc.in)
	}
}

// What the codec writes is never stale to it; the earlier numbering always is.
func TestWrittenIsNotStale(t *testing.T) {
	for _, mt := range []string{runtime.ContentTypeProtobuf, runtime.ContentTypeJSON, runtime.ContentTypeYAML} {
		c := codec(t, mt)
		for _, kind := range []string{"shoot", "internalsecret"} {
			legacy := readFile(t, "legacy-"+kind+".pb")
			assert.True(t, c.Stale(legacy), "%s: %s with the earlier numbering", mt, kind)
			obj, err := runtime.Decode(c, legacy)
			require.NoError(t, err, kind)
			written, err := runtime.Encode(c, obj)
			require.NoError(t, err, kind)
			assert.False(t, c.Stale(written), "%s: %s as written", mt, kind)
		}
	}
}

// An unknown media type is refused when the codec is built, not on the first write.
func TestUnknownMediaType(t *testing.T) {
	_, err := storagecodec.New("application/x-unknown", apiserver.Codecs, v1beta1.SchemeGroupVersion, core.SchemeGroupVersion)
	assert.Error(t, err)
}
