/**
 * The versions meshcheck uses when the config names none. One place, so the test control plane
 * (scripts/control-plane) builds exactly the istioctl that a default run installs.
 *
 * Istio 1.27.0 supports Kubernetes 1.29–1.33 and Gateway API v1.3.0 (istio.io "Supported Releases"). It is the
 * newest Istio release whose module can be had from the Go module proxy this project's test machines reach, and
 * the test control plane must run the same istioctl a default run installs.
 */
export const DEFAULT_ISTIO_VERSION = '1.27.0';
/** The Kubernetes minor of clusters meshcheck creates by default (inside Istio 1.27's support window). */
export const DEFAULT_KUBERNETES_VERSION = '1.33.13';
/** Gateway API CRDs installed when a cluster has none (the version Istio 1.27 is tested with). */
export const DEFAULT_GATEWAY_API_VERSION = '1.3.0';
