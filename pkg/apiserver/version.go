package apiserver

import (
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/version"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	basecompatibility "k8s.io/component-base/compatibility"
	baseversion "k8s.io/component-base/version"
)

// registerKubeComponent registers the version below for the "kube" component before
// genericoptions.NewServerRunOptions would register compatibility.DefaultBuildEffectiveVersion,
// which takes the stamped project version for a Kubernetes version and fails validation.
// ServerRunOptions.ApplyTo then sets the config's EffectiveVersion (--emulated-version applies).
func registerKubeComponent() {
	if compatibility.DefaultComponentGlobalsRegistry.EffectiveVersionFor(basecompatibility.DefaultKubeComponent) == nil {
		utilruntime.Must(compatibility.DefaultComponentGlobalsRegistry.Register(basecompatibility.DefaultKubeComponent,
			effectiveVersion(), utilfeature.DefaultMutableFeatureGate))
	}
}

// effectiveVersion keeps the Kubernetes version of the libraries for what decides APIs and
// features (the stamped project version, e.g. v0.1.0, is not a Kubernetes version), while
// /version reports the build stamped by hack/version.sh.
func effectiveVersion() basecompatibility.MutableEffectiveVersion {
	// As compatibility.DefaultBuildEffectiveVersion does for an unstamped build.
	kube := version.MustParse(baseversion.DefaultKubeBinaryVersion)
	floor := kube.SubtractMinor(3)
	return stampedVersion{basecompatibility.NewEffectiveVersion(kube, false, floor, floor)}
}

type stampedVersion struct {
	basecompatibility.MutableEffectiveVersion
}

// Info is the answer of /version: the build's version, commit and date; the emulation fields
// still name the Kubernetes version whose APIs the libraries serve.
func (v stampedVersion) Info() *apimachineryversion.Info {
	info := v.MutableEffectiveVersion.Info()
	build := baseversion.Get()
	info.Major, info.Minor, info.GitVersion = build.Major, build.Minor, build.GitVersion
	return info
}
