package server

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
)

func storageCodec(t testing.TB, mediaType string) runtime.Codec {
	t.Helper()
	o := NewServerOptions(nil)
	if mediaType != "" {
		o.Recommended.Etcd.DefaultStorageMediaType = mediaType
	}
	if err := o.applyStorageMediaType(); err != nil {
		t.Fatal(err)
	}
	return o.Recommended.Etcd.StorageConfig.Codec
}

func secret1KiB(name string) *core.InternalSecret {
	data := make([]byte, 1024)
	_, _ = rand.Read(data)
	return &core.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "garden-dev", UID: "6f1c3a52-9d3e-4c59-8d0e-2b4a6f1e7c21",
		ResourceVersion: "12345", Labels: map[string]string{"app": "bench"}},
		Data: map[string][]byte{"data": data}, Type: "Opaque"}
}

// Protobuf is the default; JSON written by an earlier release stays readable through the same
// codec, and --storage-media-type=application/json still writes JSON.
func TestStorageCodec(t *testing.T) {
	in := secret1KiB("s")
	pb, err := runtime.Encode(storageCodec(t, ""), in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pb, []byte("k8s\x00")) {
		t.Fatalf("default storage format is not protobuf: %q", pb[:16])
	}
	js, err := runtime.Encode(storageCodec(t, runtime.ContentTypeJSON), in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(js, []byte(`{"kind":"InternalSecret","apiVersion":"core.gardener.cloud/v1beta1"`)) {
		t.Fatalf("JSON storage: %q", js[:64])
	}
	for name, stored := range map[string][]byte{"protobuf": pb, "json": js} {
		obj, err := runtime.Decode(storageCodec(t, ""), stored)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, ok := obj.(*core.InternalSecret)
		if !ok || !bytes.Equal(out.Data["data"], in.Data["data"]) || out.Name != "s" || out.Type != "Opaque" {
			t.Fatalf("%s: decoded %#v", name, obj)
		}
	}
	o := NewServerOptions(nil)
	o.Recommended.Etcd.DefaultStorageMediaType = "application/unknown"
	if err := o.applyStorageMediaType(); err == nil {
		t.Fatal("an unknown storage media type was accepted")
	}
}

// BenchmarkStorageCodec compares what the watch cache and every write pay per 1 KiB
// InternalSecret: encode and decode through the storage codec, and the stored size.
func BenchmarkStorageCodec(b *testing.B) {
	in := secret1KiB("bench")
	for _, mt := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
		codec := storageCodec(b, mt)
		stored, err := runtime.Encode(codec, in)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("encode/"+mt, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := runtime.Encode(codec, in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(stored)), "stored-bytes")
		})
		b.Run("decode/"+mt, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := runtime.Decode(codec, stored); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkListResponse encodes a list of 500 1 KiB InternalSecrets as the server answers a
// list: v1beta1, in the media type the client asked for.
func BenchmarkListResponse(b *testing.B) {
	list := &core.InternalSecretList{}
	for i := range 500 {
		list.Items = append(list.Items, *secret1KiB(fmt.Sprintf("s-%03d", i)))
	}
	for _, mt := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
		info, ok := runtime.SerializerInfoForMediaType(apiserver.Codecs.SupportedMediaTypes(), mt)
		if !ok {
			b.Fatalf("no serializer for %s", mt)
		}
		enc := apiserver.Codecs.EncoderForVersion(info.Serializer, v1beta1.SchemeGroupVersion)
		dec := apiserver.Codecs.UniversalDeserializer()
		body, err := runtime.Encode(enc, list)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("encode/"+mt, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := runtime.Encode(enc, list); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(body)), "body-bytes")
		})
		b.Run("decode/"+mt, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := dec.Decode(body, nil, &v1beta1.InternalSecretList{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
