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

/**
 * kind and its node image for clusters meshcheck creates. kind v0.32.0 is the newest kind that publishes a 1.33
 * node image (v0.33.0 starts at 1.34); its release notes require pinning node images by digest. The digest is of
 * the multi-arch index (amd64 + arm64, kind's hack/release/build/push-node.sh); meshcheck resolves the per-arch
 * manifest digest from it with the audit's registry client when a mode needs a foreign-arch node.
 */
export const DEFAULT_KIND_VERSION = '0.32.0';
export const DEFAULT_KIND_NODE_IMAGE = 'kindest/node:v1.33.12@sha256:3f5c8443c620245e4d355cfe09e96a91ead32ceaa569d3f1ca9edf0cb2fe2ff4';
