/**
 * Problems found in input: a union keyed on a stable `code`, each with the file, the object and
 * the field path (`spec.ingress[0].ports[0].endPort`). Stages return problems; the public API and
 * the CLI throw or print them once, so a caller sees every problem of an input at the same time.
 * Invariant: `PROBLEM_CODES` is the table of docs/problem-codes.md, in its order
 * (test/model/codes.test.ts compares the two); `Problem.code` is typed by it, so the compiler
 * rejects a code the table does not list.
 * Cost: plain data; thread-safety: immutable.
 */
import { PalisadeError } from './errors.js';
import type { ObjectRef } from './types.js';

/** Every problem code, in the order of docs/problem-codes.md. */
export const PROBLEM_CODES = [
  // Structure (every kind)
  'FIELD_REQUIRED',
  'FIELD_TYPE',
  'FIELD_UNKNOWN',
  'TOO_FEW_ITEMS',
  'TOO_MANY_ITEMS',
  'LIST_DUPLICATE',
  // metadata, labels, selectors
  'METADATA_NAME_REQUIRED',
  'METADATA_NAME_INVALID',
  'METADATA_NAMESPACE_INVALID',
  'METADATA_NAMESPACE_IGNORED',
  'LABEL_KEY_INVALID',
  'LABEL_VALUE_INVALID',
  'ANNOTATION_KEY_INVALID',
  'STAGED_ANNOTATION_INVALID',
  'STAGED_ANNOTATION_IGNORED',
  'AUDIT_ANNOTATION_INVALID',
  'AUDIT_RULE_UNKNOWN',
  'AUDIT_ANNOTATION_IGNORED',
  'NAMESPACE_NAME_LABEL_OVERRIDDEN',
  'SELECTOR_OPERATOR_INVALID',
  'SELECTOR_VALUES_REQUIRED',
  'SELECTOR_VALUES_FORBIDDEN',
  // NetworkPolicy (networking.k8s.io/v1)
  'NP_PEER_EMPTY',
  'NP_PEER_IPBLOCK_WITH_SELECTOR',
  'NP_EXCEPT_NOT_STRICT_SUBSET',
  'NP_ENDPORT_WITHOUT_PORT',
  'NP_ENDPORT_WITH_NAMED_PORT',
  'NP_ENDPORT_BEFORE_PORT',
  'NP_POLICY_TYPE_INVALID',
  'NP_POLICY_TYPES_TOO_MANY',
  'NP_POLICY_TYPE_DUPLICATE',
  // Ports, protocols, addresses (shared)
  'PORT_OUT_OF_RANGE',
  'PORT_NAME_INVALID',
  'PROTOCOL_INVALID',
  'CIDR_INVALID',
  'CIDR_TOO_LONG',
  'CIDR_HOST_BITS_SET',
  'IP_INVALID',
  // ClusterNetworkPolicy (v1alpha2), AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1)
  'CNP_TIER_INVALID',
  'CNP_PRIORITY_OUT_OF_RANGE',
  'CNP_SUBJECT_NOT_ONE_OF',
  'CNP_ACTION_INVALID',
  'CNP_RULE_NAME_TOO_LONG',
  'CNP_PEER_NOT_ONE_OF',
  'CNP_PEER_FIELD_NOT_ALLOWED',
  'PEER_UNKNOWN_FAILS_CLOSED',
  'PROTOCOL_UNKNOWN_FAILS_CLOSED',
  'CNP_PROTOCOL_NOT_ONE_OF',
  'CNP_DESTINATION_PORT_NOT_ONE_OF',
  'CNP_PORT_RANGE_START_NOT_BELOW_END',
  'CNP_PORT_RANGE_EMPTY',
  'CNP_NAMED_PORT_WITH_NON_POD_PEER',
  'NAMED_PORT_NEVER_MATCHES',
  'CNP_DOMAIN_NAME_INVALID',
  'CNP_DOMAIN_NAMES_REQUIRE_ACCEPT',
  'CNP_DOMAIN_NAMES_BASELINE_TIER',
  'BANP_NAME_NOT_DEFAULT',
  // PalisadeClusterNetworkPolicy (policy.palisade.dev/v1alpha1)
  'PCNP_SERVICE_REF_INVALID',
  'PCNP_ENTITY_INVALID',
  'PCNP_SOURCE_PORT_NOT_ONE_OF',
  'PCNP_SOURCE_PORT_RANGE_INVERTED',
  'PCNP_REDIRECT_MISMATCH',
  'PCNP_SERVICES_SUBJECT_EGRESS',
  'PCNP_NAMED_PORT_NODE_SUBJECT',
  // Inventory kinds
  'POD_PORT_NAME_DUPLICATE',
  'POD_IPS_FAMILY',
  'POD_IP_MISMATCH',
  'NODE_ADDRESS_INVALID',
  'SERVICE_PORT_NAME_INVALID',
  'ENDPOINTSLICE_ADDRESS_TYPE_INVALID',
  // Loading codes (`src/manifests/`, listed for completeness)
  'YAML_SYNTAX',
  'NOT_AN_OBJECT',
  'FILE_NOT_FOUND',
  'FILE_UNREADABLE',
  'KIND_MISSING',
  'KIND_SKIPPED',
  'API_VERSION_UNSUPPORTED',
  'DUPLICATE_OBJECT',
  'NAMESPACE_IMPLICIT',
  // Compile codes (`src/index.ts`)
  'RULE_UNSUPPORTED',
  'BACKEND_CANNOT_ENFORCE',
  // Lint codes (`src/lint/`, printed by `palisade lint` and `palisade validate`)
  'LINT_NP_ALLOWS_NOTHING',
  'LINT_NP_IMPLICIT_INGRESS',
  'LINT_EGRESS_BLOCKS_DNS',
  'LINT_EQUAL_PRIORITY',
  'LINT_NETWORKS_IPV4_ONLY',
  'LINT_NETWORKS_IPV6_ONLY',
  'LINT_NAMED_PORT_UNDECLARED',
  'LINT_SELECTS_NOTHING',
  'LINT_PEER_SELECTS_NOTHING',
  'LINT_SERVICE_SELECTS_NO_ENDPOINTS',
  'LINT_NODE_SUBJECT_CUTS_API_SERVER',
] as const;

export type ProblemCode = (typeof PROBLEM_CODES)[number];

export type Severity = 'error' | 'warning';

export interface Problem {
  /** stable, UPPER_SNAKE, e.g. `NP_ENDPORT_BEFORE_PORT`; listed in docs/problem-codes.md */
  readonly code: ProblemCode;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  /** 1-based line of the object's document (or of the YAML error) when known */
  readonly line?: number;
  readonly object?: ObjectRef;
  /** field path inside the object, e.g. `spec.ingress[0].ports[0].endPort` */
  readonly path?: string;
}

export function formatObject(o: ObjectRef): string {
  return o.namespace ? `${o.kind} ${o.namespace}/${o.name}` : `${o.kind} ${o.name}`;
}

/** `file:line: error CODE: Kind ns/name: path: message` */
export function formatProblem(p: Problem): string {
  const where = p.line ? `${p.file}:${p.line}` : p.file;
  const obj = p.object ? ` ${formatObject(p.object)}:` : '';
  const path = p.path ? ` ${p.path}:` : '';
  return `${where}: ${p.severity} ${p.code}:${obj}${path} ${p.message}`;
}

export const hasErrors = (ps: readonly Problem[]): boolean => ps.some((p) => p.severity === 'error');

/** Thrown once at the public API when input is invalid; carries every problem. */
export class InvalidInputError extends PalisadeError {
  constructor(readonly problems: readonly Problem[]) {
    super(
      'ERR_PALISADE_INVALID_INPUT',
      `invalid input (${problems.filter((p) => p.severity === 'error').length} problem(s)):\n` +
        problems.map((p) => '  ' + formatProblem(p)).join('\n'),
    );
  }
}
