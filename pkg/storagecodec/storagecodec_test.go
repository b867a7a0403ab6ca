package storagecodec_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
	"github.com/garden-apiserver/garden-apiserver/pkg/storagecodec"
)

func codec(t *testing.T, mediaType string) *storagecodec.Codec {
	t.Helper()
	c, err := storagecodec.New(mediaType, apiserver.Codecs, v1beta1.SchemeGroupVersion, core.SchemeGroupVersion)
	require.NoError(t, err)
	return c
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// The testdata values were written by the protobuf serializer of the release before Gardener's
// field numbers, with every field set; the JSON files are the same objects. Read through the
// codec, each protobuf value must be exactly its JSON, and written again it carries the marker
// and Gardener's numbers.
func TestLegacyValuesReadAsStored(t *testing.T) {
	c := codec(t, runtime.ContentTypeProtobuf)
	for _, kind := range []string{"shoot", "internalsecret"} {
		legacy, js := readFile(t, "legacy-"+kind+".pb"), readFile(t, kind+".json")
		require.Equal(t, storagecodec.LegacyProtobuf, storagecodec.StoredMediaType(legacy), kind)

		want, err := runtime.Decode(c, js)
		require.NoError(t, err, kind)
		got, err := runtime.Decode(c, legacy)
		require.NoError(t, err, kind)
		require.Equal(t, want, got, kind)

		written, err := runtime.Encode(c, got)
		require.NoError(t, err, kind)
		require.Equal(t, runtime.ContentTypeProtobuf, storagecodec.StoredMediaType(written), kind)
		again, err := runtime.Decode(c, written)
		require.NoError(t, err, kind)
		require.Equal(t, want, again, kind)

		// The library's own decoder (no renumbering) reads what is written now: Gardener's numbers.
		plain, err := runtime.Decode(apiserver.Codecs.UniversalDecoder(core.SchemeGroupVersion), written)
		require.NoError(t, err, kind)
		require.Equal(t, want, plain, kind)
	}
}

// With --storage-media-type=application/json legacy values are read the same and written as JSON.
func TestLegacyValuesToJSON(t *testing.T) {
	c := codec(t, runtime.ContentTypeJSON)
	obj, err := runtime.Decode(c, readFile(t, "legacy-shoot.pb"))
	require.NoError(t, err)
	out, err := runtime.Encode(c, obj)
	require.NoError(t, err)
	require.Equal(t, runtime.ContentTypeJSON, storagecodec.StoredMediaType(out))
	want, err := runtime.Decode(c, readFile(t, "shoot.json"))
	require.NoError(t, err)
	require.Equal(t, want, obj)
}

// Renumbering moves fields by the table and keeps the bytes of map entries and of fields it
// does not know.
func TestRenumberKeepsEntriesAndUnknownFields(t *testing.T) {
	entry := protowire.AppendTag(nil, 1, protowire.BytesType)
	entry = protowire.AppendString(entry, "key")
	entry = protowire.AppendTag(entry, 2, protowire.BytesType)
	entry = protowire.AppendBytes(entry, []byte{0, 1, 2})
	var raw []byte
	raw = protowire.AppendTag(raw, 3, protowire.BytesType) // data (earlier number)
	raw = protowire.AppendBytes(raw, entry)
	raw = protowire.AppendTag(raw, 99, protowire.VarintType) // unknown
	raw = protowire.AppendVarint(raw, 7)
	raw = protowire.AppendTag(raw, 2, protowire.VarintType) // immutable (earlier number)
	raw = protowire.AppendVarint(raw, 1)

	unk := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: "core.gardener.cloud/v1beta1", Kind: "InternalSecret"}, Raw: raw}
	b, err := unk.Marshal()
	require.NoError(t, err)
	var got runtime.Unknown
	out, err := storagecodec.FromLegacy(append([]byte("k8s\x00"), b...))
	require.NoError(t, err)
	require.NoError(t, got.Unmarshal(out[4:]))
	require.Equal(t, storagecodec.FieldsMarker, got.ContentType)

	var want []byte
	want = protowire.AppendTag(want, 2, protowire.BytesType)
	want = protowire.AppendBytes(want, entry)
	want = protowire.AppendTag(want, 99, protowire.VarintType)
	want = protowire.AppendVarint(want, 7)
	want = protowire.AppendTag(want, 5, protowire.VarintType)
	want = protowire.AppendVarint(want, 1)
	require.Equal(t, want, got.Raw)
}

// Marking replaces the envelope's content type, so marking twice gives the same bytes.
func TestMarkIdempotent(t *testing.T) {
	c := codec(t, runtime.ContentTypeProtobuf)
	obj, err := runtime.Decode(c, readFile(t, "internalsecret.json"))
	require.NoError(t, err)
	once, err := runtime.Encode(c, obj)
	require.NoError(t, err)
	twice, err := storagecodec.Mark(once)
	require.NoError(t, err)
	require.Equal(t, once, twice)
}
