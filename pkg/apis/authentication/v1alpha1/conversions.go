package v1alpha1

import (
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication"
)

// Both request kinds convert to the one internal KubeconfigRequest; the subresource that
// receives a body decides what is issued. A nil expirationSeconds becomes 0, which validation
// refuses; decoding defaults it before any conversion.

// Convert_v1alpha1_AdminKubeconfigRequest_To_authentication_KubeconfigRequest converts the admin request body.
func Convert_v1alpha1_AdminKubeconfigRequest_To_authentication_KubeconfigRequest(in *AdminKubeconfigRequest, out *authentication.KubeconfigRequest, _ conversion.Scope) error {
	out.ObjectMeta, out.Spec.ExpirationSeconds, out.Status = in.ObjectMeta, deref(in.Spec.ExpirationSeconds), authentication.KubeconfigRequestStatus(in.Status)
	return nil
}

// Convert_authentication_KubeconfigRequest_To_v1alpha1_AdminKubeconfigRequest converts to the admin request body.
func Convert_authentication_KubeconfigRequest_To_v1alpha1_AdminKubeconfigRequest(in *authentication.KubeconfigRequest, out *AdminKubeconfigRequest, _ conversion.Scope) error {
	out.ObjectMeta, out.Spec.ExpirationSeconds, out.Status = in.ObjectMeta, ptrTo(in.Spec.ExpirationSeconds), AdminKubeconfigRequestStatus(in.Status)
	return nil
}

// Convert_v1alpha1_ViewerKubeconfigRequest_To_authentication_KubeconfigRequest converts the viewer request body.
func Convert_v1alpha1_ViewerKubeconfigRequest_To_authentication_KubeconfigRequest(in *ViewerKubeconfigRequest, out *authentication.KubeconfigRequest, _ conversion.Scope) error {
	out.ObjectMeta, out.Spec.ExpirationSeconds, out.Status = in.ObjectMeta, deref(in.Spec.ExpirationSeconds), authentication.KubeconfigRequestStatus(in.Status)
	return nil
}

// Convert_authentication_KubeconfigRequest_To_v1alpha1_ViewerKubeconfigRequest converts to the viewer request body.
func Convert_authentication_KubeconfigRequest_To_v1alpha1_ViewerKubeconfigRequest(in *authentication.KubeconfigRequest, out *ViewerKubeconfigRequest, _ conversion.Scope) error {
	out.ObjectMeta, out.Spec.ExpirationSeconds, out.Status = in.ObjectMeta, ptrTo(in.Spec.ExpirationSeconds), ViewerKubeconfigRequestStatus(in.Status)
	return nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func ptrTo(v int64) *int64 { return &v }
