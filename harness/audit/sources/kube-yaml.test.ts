import { describe, expect, test } from 'vitest';
import { dedupeImages, imagesFromKubeYaml } from './kube-yaml.ts';

// Manifests as people write them and as `helm template` prints them; written here, not taken from a cluster.

const BOOKINFO = `# Bookinfo, trimmed: two services and their deployments
apiVersion: v1
kind: Service
metadata:
  name: details
  labels:
    app: details
spec:
  ports:
  - port: 9080
    name: http
  selector:
    app: details
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: details-v1
  labels:
    app: details
    version: v1
spec:
  replicas: 1
  selector:
    matchLabels:
      app: details
      version: v1
  template:
    metadata:
      labels:
        app: details
        version: v1
    spec:
      serviceAccountName: bookinfo-details
      containers:
      - name: details
        image: docker.io/istio/examples-bookinfo-details-v1:1.20.3
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 9080
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ratings-db
  namespace: bookinfo
spec:
  serviceName: ratings-db
  selector:
    matchLabels: { app: ratings-db }
  template:
    metadata:
      labels: { app: ratings-db }
    spec:
      containers:
      - name: mongodb
        image: docker.io/istio/examples-bookinfo-mongodb:1.20.3
      - name: exporter
        image: quay.io/prometheus/mongodb-exporter@sha256:${'a'.repeat(64)}
`;

describe('imagesFromKubeYaml', () => {
  test('multi-document file: workloads give images, other kinds are ignored', () => {
    const set = imagesFromKubeYaml(BOOKINFO, 'bookinfo.yaml');
    expect(set.problems).toEqual([]);
    expect(set.images).toEqual([
      { image: 'docker.io/istio/examples-bookinfo-details-v1:1.20.3', from: 'bookinfo.yaml: Deployment default/details-v1, container details' },
      { image: 'docker.io/istio/examples-bookinfo-mongodb:1.20.3', from: 'bookinfo.yaml: StatefulSet bookinfo/ratings-db, container mongodb' },
      {
        image: `quay.io/prometheus/mongodb-exporter@sha256:${'a'.repeat(64)}`,
        from: 'bookinfo.yaml: StatefulSet bookinfo/ratings-db, container exporter',
      },
    ]);
  });

  test('kind: List and *List with items, nested, as `kubectl get -o yaml` prints them', () => {
    const text = `apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata:
    name: node-exporter
    namespace: monitoring
  spec:
    selector:
      matchLabels: { app: node-exporter }
    template:
      metadata:
        labels: { app: node-exporter }
      spec:
        hostNetwork: true
        containers:
        - name: node-exporter
          image: quay.io/prometheus/node-exporter:v1.8.2
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: settings
  data:
    image: not-an-image:because-configmaps-hold-no-pods
- apiVersion: apps/v1
  kind: DeploymentList
  items:
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: shop
    spec:
      template:
        spec:
          containers:
          - name: nginx
            image: nginx:1.27
- apiVersion: v1
  kind: ReplicationController
  metadata:
    name: legacy
  spec:
    template:
      spec:
        containers:
        - name: app
          image: registry.example.com/legacy/app:3
`;
    const set = imagesFromKubeYaml(text, 'list.yaml');
    expect(set.problems).toEqual([]);
    expect(set.images).toEqual([
      { image: 'quay.io/prometheus/node-exporter:v1.8.2', from: 'list.yaml: DaemonSet monitoring/node-exporter, container node-exporter' },
      { image: 'nginx:1.27', from: 'list.yaml: Deployment shop/web, container nginx' },
      { image: 'registry.example.com/legacy/app:3', from: 'list.yaml: ReplicationController default/legacy, container app' },
    ]);
  });

  test('CronJob with initContainers; Job; ReplicaSet; PodTemplate', () => {
    const text = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-backup
  namespace: ops
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          initContainers:
          - name: wait-for-db
            image: docker.io/library/busybox:1.36
            command: ["sh", "-c", "until nc -z db 5432; do sleep 1; done"]
          containers:
          - name: backup
            image: ghcr.io/example/pg-backup:2.1.0
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: ops
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: ghcr.io/example/migrate:2.1.0
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend
spec:
  template:
    spec:
      containers:
      - name: php-redis
        image: us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5
---
apiVersion: v1
kind: PodTemplate
metadata:
  name: debug-template
  namespace: ops
template:
  spec:
    containers:
    - name: shell
      image: docker.io/nicolaka/netshoot:v0.13
`;
    const set = imagesFromKubeYaml(text, 'jobs.yaml');
    expect(set.problems).toEqual([]);
    expect(set.images.map((u) => `${u.image} <- ${u.from}`)).toEqual([
      'docker.io/library/busybox:1.36 <- jobs.yaml: CronJob ops/nightly-backup, initContainer wait-for-db',
      'ghcr.io/example/pg-backup:2.1.0 <- jobs.yaml: CronJob ops/nightly-backup, container backup',
      'ghcr.io/example/migrate:2.1.0 <- jobs.yaml: Job ops/migrate, container migrate',
      'us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5 <- jobs.yaml: ReplicaSet default/frontend, container php-redis',
      'docker.io/nicolaka/netshoot:v0.13 <- jobs.yaml: PodTemplate ops/debug-template, container shell',
    ]);
  });

  test('Pod with ephemeralContainers (as `kubectl debug` leaves it)', () => {
    const text = `apiVersion: v1
kind: Pod
metadata:
  name: ratings-v1-5d8f7b6c9-x2x7q
  namespace: bookinfo
spec:
  containers:
  - name: ratings
    image: docker.io/istio/examples-bookinfo-ratings-v1:1.20.3
  ephemeralContainers:
  - name: debugger-8k2lq
    image: docker.io/library/busybox:1.36
    targetContainerName: ratings
    stdin: true
    tty: true
`;
    const set = imagesFromKubeYaml(text, 'pod.yaml');
    expect(set.problems).toEqual([]);
    expect(set.images).toEqual([
      { image: 'docker.io/istio/examples-bookinfo-ratings-v1:1.20.3', from: 'pod.yaml: Pod bookinfo/ratings-v1-5d8f7b6c9-x2x7q, container ratings' },
      { image: 'docker.io/library/busybox:1.36', from: 'pod.yaml: Pod bookinfo/ratings-v1-5d8f7b6c9-x2x7q, ephemeralContainer debugger-8k2lq' },
    ]);
  });

  test('a broken document between two good ones: one problem naming it, both neighbours still count', () => {
    const text = `apiVersion: v1
kind: Pod
metadata:
  name: first
spec:
  containers:
  - name: app
    image: registry.example.com/first:1
---
apiVersion: v1
kind: Pod
metadata:
  name: broken
spec:
  containers:
  - name: app
    image: registry.example.com/broken:1
   ports: [8080
---
apiVersion: v1
kind: Pod
metadata:
  name: last
spec:
  containers:
  - name: app
    image: registry.example.com/last:1
`;
    const set = imagesFromKubeYaml(text, 'pods.yaml');
    expect(set.images.map((u) => u.image)).toEqual(['registry.example.com/first:1', 'registry.example.com/last:1']);
    expect(set.problems).toHaveLength(1);
    const [p] = set.problems;
    expect(p!.from).toBe('pods.yaml: document 2 (line 9)');
    expect(p!.message).toMatch(/^not valid YAML: .*line 18, column \d+/);
    expect(p!.message).toMatch(/its images were not read$/);
    expect(p!.fix).toMatch(/document 2 in pods\.yaml.*the other documents were read/);
  });

  test('Helm output: a document of only comments, empty documents and a leading --- are ignored', () => {
    const text = `---
# Source: podinfo/templates/hpa.yaml
# (rendered empty: autoscaling.enabled=false)
---
# Source: podinfo/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: release-podinfo
  namespace: apps
spec:
  template:
    spec:
      containers:
        - name: podinfo
          image: "ghcr.io/stefanprodan/podinfo:6.7.1"
---
---
~
`;
    const set = imagesFromKubeYaml(text, 'helm-template.yaml');
    expect(set.problems).toEqual([]);
    expect(set.images).toEqual([{ image: 'ghcr.io/stefanprodan/podinfo:6.7.1', from: 'helm-template.yaml: Deployment apps/release-podinfo, container podinfo' }]);
  });

  test('an empty file and a comments-only file have no images and no problems', () => {
    expect(imagesFromKubeYaml('', 'empty.yaml')).toEqual({ images: [], problems: [] });
    expect(imagesFromKubeYaml('# nothing rendered\n', 'c.yaml')).toEqual({ images: [], problems: [] });
  });

  test('a container without an image is a problem that says where and what to set', () => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      initContainers:
      - name: migrate
      containers:
      - name: api
        image: ""
      - image: ghcr.io/example/sidecar:1
      - name: numeric
        image: 42
`;
    const set = imagesFromKubeYaml(text, 'api.yaml');
    expect(set.images).toEqual([{ image: 'ghcr.io/example/sidecar:1', from: 'api.yaml: Deployment shop/api, container #2 (unnamed)' }]);
    expect(set.problems).toEqual([
      {
        from: 'api.yaml: Deployment shop/api, initContainer migrate',
        message: 'has no image',
        fix: 'set spec.template.spec.initContainers[0].image to the image reference it runs, such as registry.example/app:1.0',
      },
      {
        from: 'api.yaml: Deployment shop/api, container api',
        message: 'has no image',
        fix: 'set spec.template.spec.containers[0].image to the image reference it runs, such as registry.example/app:1.0',
      },
      {
        from: 'api.yaml: Deployment shop/api, container numeric',
        message: 'has no usable image (image is a number)',
        fix: 'set spec.template.spec.containers[2].image to the image reference it runs, such as registry.example/app:1.0',
      },
    ]);
  });

  test('unknown kinds and objects without kind are ignored silently; a workload without pod spec is a problem', () => {
    const text = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: canary }
spec:
  template:
    spec:
      containers:
      - name: app
        image: not/counted:1
---
metadata: { name: no-kind }
spec: { containers: [ { name: x, image: also/not-counted:1 } ] }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hollow
spec:
  replicas: 2
`;
    const set = imagesFromKubeYaml(text, 'mixed.yaml');
    expect(set.images).toEqual([]);
    expect(set.problems).toEqual([
      {
        from: 'mixed.yaml: Deployment default/hollow',
        message: 'has no pod spec at spec.template.spec, so its images are unknown',
        fix: 'give Deployment default/hollow in mixed.yaml a spec.template.spec with its containers',
      },
    ]);
  });

  test('a document that is not an object, and a List item that is not one, are problems', () => {
    const text = `- just
- a list
---
apiVersion: v1
kind: List
items:
- plain string
`;
    const set = imagesFromKubeYaml(text, 'odd.yaml');
    expect(set.images).toEqual([]);
    expect(set.problems.map((p) => `${p.from}: ${p.message}`)).toEqual([
      'odd.yaml: document 1 (line 1): is a list, not a Kubernetes object',
      'odd.yaml: document 2 (line 3), List item 1: is a string, not a Kubernetes object',
    ]);
  });

  test('unrendered templates and whitespace in image are problems, not images', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: { name: p }
spec:
  containers:
  - name: a
    image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
  - name: b
    image: " nginx:1.27"
`;
    const set = imagesFromKubeYaml(text, 'p.yaml');
    expect(set.images).toEqual([]);
    expect(set.problems.map((p) => p.message)).toEqual([
      'image "{{ .Values.image.repository }}:{{ .Values.image.tag }}" is an unrendered template',
      'image " nginx:1.27" contains whitespace',
    ]);
  });

  test('"image: auto" on an Istio-injected container is not an image; elsewhere it is', () => {
    // What `helm template istio/gateway` renders (manifests/charts/gateway/templates/deployment.yaml:71-73, 1.30.3).
    const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-ingress
  namespace: istio-ingress
spec:
  template:
    metadata:
      labels:
        sidecar.istio.io/inject: "true"
    spec:
      containers:
        - name: istio-proxy
          image: auto
        - name: other
          image: auto
`;
    const set = imagesFromKubeYaml(text, 'gateway.yaml');
    expect(set.problems).toEqual([]);
    expect(set.images).toEqual([{ image: 'auto', from: 'gateway.yaml: Deployment istio-ingress/istio-ingress, container other' }]);
  });

  test('generateName stands in for a missing name', () => {
    const text = `apiVersion: batch/v1
kind: Job
metadata:
  generateName: smoke-
spec:
  template:
    spec:
      containers:
      - name: t
        image: ghcr.io/example/t:1
`;
    expect(imagesFromKubeYaml(text, 'j.yaml').images[0]!.from).toBe('j.yaml: Job default/smoke-*, container t');
  });
});

describe('dedupeImages', () => {
  test('one entry per image, first-seen order, every place kept once', () => {
    expect(
      dedupeImages([
        { image: 'b:1', from: 'x: Deployment a/b, container c' },
        { image: 'a:1', from: 'argument 1' },
        { image: 'b:1', from: 'argument 2' },
        { image: 'b:1', from: 'x: Deployment a/b, container c' },
      ]),
    ).toEqual([
      { image: 'b:1', from: ['x: Deployment a/b, container c', 'argument 2'] },
      { image: 'a:1', from: ['argument 1'] },
    ]);
  });
});
