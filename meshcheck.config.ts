/**
 * The project's default run: every cell the GitHub workflow runs (amd64 and arm64 native, arm64 emulated and
 * hybrid), the default Istio, every suite. `meshcheck run --dry-run` prints the whole plan.
 */
import { defineConfig } from './harness/config/define.ts';

export default defineConfig({
  mesh: { versions: ['1.27.0'], profile: 'default' },
  cells: [
    { provider: 'kind', arch: 'amd64', mode: 'native' },
    { provider: 'kind', arch: 'arm64', mode: 'native' },
    { provider: 'kind', arch: 'arm64', mode: 'emulated' },
    { provider: 'kind', arch: 'arm64', mode: 'hybrid' },
  ],
  suites: ['traffic', 'mtls', 'retry', 'ingress', 'crash', 'latency'],
});
