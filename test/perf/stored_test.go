package main

import (
	"bytes"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	serverstorage "k8s.io/apiserver/pkg/server/storage"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
)

// The clones the memory benchmark writes into etcd are byte for byte what the server's storage
// codec writes, in both formats.
func TestStoredCodecMatchesServer(t *testing.T) {
	for _, mt := range []string{runtime.ContentTypeProtobuf, runtime.ContentTypeJSON} {
		codec, _, err := serverstorage.NewStorageCodec(serverstorage.StorageCodecConfig{StorageMediaType: mt,
			StorageSerializer: apiserver.Codecs, StorageVersion: corev1beta1.SchemeGroupVersion, MemoryVersion: core.SchemeGroupVersion})
		if err != nil {
			t.Fatal(err)
		}
		in := &corev1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "tmpl", Namespace: "ns", UID: "u1"},
			Data: map[string][]byte{"data": bytes.Repeat([]byte{7}, 1024)}, Type: "Opaque"}
		stored, err := runtime.Encode(codec, in)
		if err != nil {
			t.Fatal(err)
		}
		c := storedCodecFor(stored)
		if c.protobuf != (mt == runtime.ContentTypeProtobuf) {
			t.Fatalf("%s: format not recognized", mt)
		}
		var tmpl corev1beta1.InternalSecret
		if err := c.decode(stored, &tmpl); err != nil {
			t.Fatal(err)
		}
		again, err := c.encode(&tmpl)
		if err != nil || !bytes.Equal(again, stored) {
			t.Fatalf("%s: re-encoded template differs from the stored bytes (%v):\n%q\n%q", mt, err, again, stored)
		}
	}
}
