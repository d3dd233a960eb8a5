/**
 * What an image source hands to the audit: the image references it found, each with where it was found, and the
 * problems it met on the way. Sources never throw for bad input documents, because one bad document in a
 * 40-document manifest should not hide the images of the other 39; they report it as a problem instead.
 */

export interface ImageUse {
  /** The image reference exactly as written (no normalisation: the audit resolves it against the registry). */
  image: string;
  /** Where it was found, for people: "deploy.yaml: Deployment istio-system/istiod, container discovery" or "argument 2". */
  from: string;
}

export interface SourceProblem {
  /** The file, document or object the problem is in. */
  from: string;
  message: string;
  /** What to do about it, in one sentence. */
  fix?: string;
}

export interface ImageSet {
  images: ImageUse[];
  problems: SourceProblem[];
}
