package compat

import (
	"reflect"

	gardenauthv1alpha1 "github.com/gardener/gardener/pkg/apis/authentication/v1alpha1"
	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
)

// Schemes with the external versions only: the round trips compare what is on the wire, so
// nothing is converted or defaulted on the way.
var (
	oursScheme     = runtime.NewScheme()
	gardenerScheme = runtime.NewScheme()
)

func init() {
	utilruntime.Must(corev1beta1.AddToScheme(oursScheme))
	utilruntime.Must(authv1alpha1.AddToScheme(oursScheme))
	utilruntime.Must(gardencorev1beta1.AddToScheme(gardenerScheme))
	utilruntime.Must(gardenauthv1alpha1.AddToScheme(gardenerScheme))
}

// kind is one kind both APIs serve: our Go type and Gardener's.
type kind struct {
	gvk            schema.GroupVersionKind
	ours, gardener runtime.Object
}

func (k kind) newOurs() runtime.Object {
	return reflect.New(reflect.TypeOf(k.ours).Elem()).Interface().(runtime.Object)
}

func (k kind) newGardener() runtime.Object {
	return reflect.New(reflect.TypeOf(k.gardener).Elem()).Interface().(runtime.Object)
}

// sharedKinds is every kind whose wire format we share with Gardener.
var sharedKinds = []kind{
	{corev1beta1.SchemeGroupVersion.WithKind("InternalSecret"), &corev1beta1.InternalSecret{}, &gardencorev1beta1.InternalSecret{}},
	{corev1beta1.SchemeGroupVersion.WithKind("InternalSecretList"), &corev1beta1.InternalSecretList{}, &gardencorev1beta1.InternalSecretList{}},
	{corev1beta1.SchemeGroupVersion.WithKind("Shoot"), &corev1beta1.Shoot{}, &gardencorev1beta1.Shoot{}},
	{corev1beta1.SchemeGroupVersion.WithKind("ShootList"), &corev1beta1.ShootList{}, &gardencorev1beta1.ShootList{}},
	{authv1alpha1.SchemeGroupVersion.WithKind("AdminKubeconfigRequest"), &authv1alpha1.AdminKubeconfigRequest{}, &gardenauthv1alpha1.AdminKubeconfigRequest{}},
	{authv1alpha1.SchemeGroupVersion.WithKind("ViewerKubeconfigRequest"), &authv1alpha1.ViewerKubeconfigRequest{}, &gardenauthv1alpha1.ViewerKubeconfigRequest{}},
}

// wireFormat encodes and decodes one media type with either side's scheme.
type wireFormat struct {
	name           string
	ours, gardener runtime.Serializer
}

var wireFormats = []wireFormat{
	{
		name:     "json",
		ours:     json.NewSerializerWithOptions(json.DefaultMetaFactory, oursScheme, oursScheme, json.SerializerOptions{}),
		gardener: json.NewSerializerWithOptions(json.DefaultMetaFactory, gardenerScheme, gardenerScheme, json.SerializerOptions{}),
	},
	{
		name:     "protobuf",
		ours:     protobuf.NewSerializer(oursScheme, oursScheme),
		gardener: protobuf.NewSerializer(gardenerScheme, gardenerScheme),
	},
}

// codecsFor gives the fuzzer's RawExtension filler a codec for metav1 kinds.
func codecsFor(s *runtime.Scheme) serializer.CodecFactory { return serializer.NewCodecFactory(s) }
