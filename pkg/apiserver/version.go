package apiserver

import (
	"k8s.io/apimachinery/pkg/util/version"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	basecompatibility "k8s.io/component-base/compatibility"
	baseversion "k8s.io/component-base/version"
)

// effectiveVersion keeps the Kubernetes version of the libraries for what decides APIs and
// features (the stamped project version, e.g. v0.1.0, is not a Kubernetes version), while
// /version reports the build stamped by hack/version.sh.
func effectiveVersion() basecompatibility.EffectiveVersion {
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
