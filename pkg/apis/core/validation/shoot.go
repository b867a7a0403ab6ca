package validation

import (
	"net/url"
	"strings"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// ProjectNamespacePrefix prefixes Gardener project namespaces (garden-<project>).
const ProjectNamespacePrefix = "garden-"

// MaxTechnicalIDLength bounds "shoot--<project>--<shoot>", the name Gardener gives the
// shoot's control-plane namespace: it must fit a DNS label.
const MaxTechnicalIDLength = validation.DNS1123LabelMaxLength

var (
	providerTypes = sets.New(core.EncryptionProviderTypeAESCBC, core.EncryptionProviderTypeAESGCM, core.EncryptionProviderTypeSecretbox)
	// Resources the shoot's kube-apiserver cannot or must not encrypt (Gardener's list).
	forbiddenResources = sets.New("apiserveripinfo", "serviceipallocations", "servicenodeportallocations")
	forbiddenGroups    = map[string]string{
		"events.k8s.io": "use \"events\" instead",
		"extensions":    "the extensions group is not served any more",
	}
)

// TechnicalID is the name of the shoot's control-plane namespace.
func TechnicalID(namespace, name string) string {
	return "shoot--" + strings.TrimPrefix(namespace, ProjectNamespacePrefix) + "--" + name
}

// ValidateShoot validates a Shoot.
func ValidateShoot(s *core.Shoot) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&s.ObjectMeta, true, validateShootName, field.NewPath("metadata"))
	if s.Namespace != "" && s.Name != "" {
		if id := TechnicalID(s.Namespace, s.Name); len(id) > MaxTechnicalIDLength {
			allErrs = append(allErrs, field.TooLong(field.NewPath("metadata", "name"), s.Name,
				MaxTechnicalIDLength-len(TechnicalID(s.Namespace, ""))))
		}
	}
	allErrs = append(allErrs, validateKubernetes(&s.Spec.Kubernetes, field.NewPath("spec", "kubernetes"))...)
	return append(allErrs, ValidateShootStatus(&s.Status, field.NewPath("status"))...)
}

// validateShootName: a DNS label without "--", which separates parts of the technical ID.
func validateShootName(name string, prefix bool) []string {
	msgs := apimachineryvalidation.NameIsDNSLabel(name, prefix)
	if strings.Contains(name, "--") {
		msgs = append(msgs, "must not contain two consecutive hyphens")
	}
	return msgs
}

func validateKubernetes(k *core.Kubernetes, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if k.Version == "" {
		allErrs = append(allErrs, field.Required(fld.Child("version"), "kubernetes version must not be empty"))
	} else if _, err := version.ParseSemantic(k.Version); err != nil {
		allErrs = append(allErrs, field.Invalid(fld.Child("version"), k.Version, "must be a semantic version (e.g. 1.31.2)"))
	}
	if k.KubeAPIServer != nil && k.KubeAPIServer.EncryptionConfig != nil {
		allErrs = append(allErrs, ValidateEncryptionConfig(k.KubeAPIServer.EncryptionConfig,
			fld.Child("kubeAPIServer", "encryptionConfig"))...)
	}
	return allErrs
}

// ValidateEncryptionConfig checks the resources a shoot wants encrypted and the provider.
func ValidateEncryptionConfig(c *core.EncryptionConfig, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, r := range c.Resources {
		idx := fld.Child("resources").Index(i)
		if seen.Has(r) {
			allErrs = append(allErrs, field.Duplicate(idx, r))
			continue
		}
		seen.Insert(r)
		if msg := resourceProblem(r); msg != "" {
			allErrs = append(allErrs, field.Invalid(idx, r, msg))
		}
	}
	if t := c.Provider.Type; t != nil && !providerTypes.Has(*t) {
		allErrs = append(allErrs, field.NotSupported(fld.Child("provider", "type"), *t, sets.List(providerTypes)))
	}
	return allErrs
}

func resourceProblem(r string) string {
	switch {
	case r == "secrets":
		return "secrets are always encrypted"
	case strings.Contains(r, "*"):
		return "wildcards are not supported"
	case strings.HasSuffix(r, "."):
		return "must not end with a '.'"
	case r != strings.ToLower(r):
		return "must be lowercase"
	}
	resource, group, _ := strings.Cut(r, ".")
	if forbiddenResources.Has(resource) {
		return "this resource cannot be encrypted"
	}
	if msg, ok := forbiddenGroups[group]; ok {
		return msg
	}
	if msgs := validation.IsDNS1123Label(resource); len(msgs) > 0 {
		return "resource name " + strings.Join(msgs, "; ")
	}
	if group != "" {
		if msgs := validation.IsDNS1123Subdomain(group); len(msgs) > 0 {
			return "group " + strings.Join(msgs, "; ")
		}
	}
	return ""
}

// ValidateShootUpdate validates an update of a Shoot (spec and metadata).
func ValidateShootUpdate(newS, oldS *core.Shoot) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newS.ObjectMeta, &oldS.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateShoot(newS)...)
}

// ValidateShootStatus checks the advertised addresses: unique names and absolute https URLs.
func ValidateShootStatus(st *core.ShootStatus, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()
	for i, a := range st.AdvertisedAddresses {
		idx := fld.Child("advertisedAddresses").Index(i)
		if a.Name == "" {
			allErrs = append(allErrs, field.Required(idx.Child("name"), ""))
		} else if names.Has(a.Name) {
			allErrs = append(allErrs, field.Duplicate(idx.Child("name"), a.Name))
		}
		names.Insert(a.Name)
		allErrs = append(allErrs, validateAdvertisedURL(a.URL, idx.Child("url"))...)
	}
	if st.ObservedGeneration < 0 {
		allErrs = append(allErrs, field.Invalid(fld.Child("observedGeneration"), st.ObservedGeneration, "must not be negative"))
	}
	return allErrs
}

// validateAdvertisedURL: issued kubeconfigs use scheme and host of the URL, so anything else a
// client would have to carry (credentials, query, fragment) is refused rather than dropped.
func validateAdvertisedURL(raw string, fld *field.Path) field.ErrorList {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "":
		return field.ErrorList{field.Invalid(fld, raw, "must be an absolute https URL")}
	case u.User != nil:
		return field.ErrorList{field.Invalid(fld, raw, "must not contain user info")}
	case u.RawQuery != "" || u.ForceQuery:
		return field.ErrorList{field.Invalid(fld, raw, "must not contain a query")}
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return field.ErrorList{field.Invalid(fld, raw, "must not contain a fragment")}
	}
	return nil
}

// ValidateShootStatusUpdate validates a write to shoots/status.
func ValidateShootStatusUpdate(newS, oldS *core.Shoot) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newS.ObjectMeta, &oldS.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateShootStatus(&newS.Status, field.NewPath("status"))...)
}
