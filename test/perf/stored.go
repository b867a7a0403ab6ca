package main

import (
	"bytes"
	"encoding/json"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
)

var storedScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(corev1beta1.AddToScheme(s))
	return s
}()

// storedCodec reads and writes unencrypted InternalSecrets byte for byte as the server stores
// them: protobuf (the "k8s\x00" magic and a runtime.Unknown envelope) or JSON (encoding/json
// with a newline), whichever --storage-media-type the template was written with.
type storedCodec struct{ protobuf bool }

func storedCodecFor(v []byte) storedCodec {
	return storedCodec{protobuf: bytes.HasPrefix(v, []byte("k8s\x00"))}
}

func (c storedCodec) decode(v []byte, into *corev1beta1.InternalSecret) error {
	if !c.protobuf {
		return json.Unmarshal(v, into)
	}
	_, _, err := protobuf.NewSerializer(storedScheme, storedScheme).Decode(v, nil, into)
	return err
}

func (c storedCodec) encode(s *corev1beta1.InternalSecret) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if c.protobuf {
		err = protobuf.NewSerializer(storedScheme, storedScheme).Encode(s, &buf)
	} else {
		err = json.NewEncoder(&buf).Encode(s)
	}
	return buf.Bytes(), err
}
