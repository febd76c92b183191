import type { ConnectionLike } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType, type SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { UserFacingError } from '../../cli-errors';
import { errorText, grpcCode, GrpcStatus, pollUntil, refusedByServer } from './grpc';

export interface EnsuredSearchAttribute {
  name: string;
  /** As Temporal names types in its CLI and Web UI: Keyword, Int, KeywordList, ... */
  type: string;
  action: 'present' | 'registered';
}

type Services = Pick<ConnectionLike, 'operatorService'>;
type Key = SearchAttributeKey<SearchAttributeType>;
/** Custom attribute name -> IndexedValueType number, as ListSearchAttributes answers. */
type Listed = Record<string, number>;

const indexedType = (type: SearchAttributeType) => encodeSearchAttributeIndexedValueType(type) as number;

/** KEYWORD_LIST -> KeywordList: how Temporal's CLI and Web UI name the type. */
export function typeName(type: SearchAttributeType): string {
  return type
    .split('_')
    .map((word) => word.charAt(0) + word.slice(1).toLowerCase())
    .join('');
}

function listedTypeName(indexed: number): string {
  const type = Object.values(SearchAttributeType).find((t) => indexedType(t) === indexed);
  return type ? typeName(type) : `type ${indexed}`;
}

async function list(connection: Services, namespace: string): Promise<Listed> {
  try {
    const response = await connection.operatorService.listSearchAttributes({ namespace });
    return response.customAttributes ?? {};
  } catch (err) {
    throw new UserFacingError(`cannot list the search attributes of namespace ${namespace}: ${errorText(err)}`);
  }
}

function refuseConflicts(listed: Listed, keys: readonly Key[], namespace: string): void {
  for (const key of keys) {
    const existing = listed[key.name];
    if (existing !== undefined && existing !== indexedType(key.type)) {
      throw new UserFacingError(
        `search attribute ${key.name} exists in namespace ${namespace} as ${listedTypeName(existing)}, but the product needs ` +
          `${typeName(key.type)}: remove it (temporal operator search-attribute remove --name ${key.name} --namespace ${namespace}) ` +
          'or use another namespace',
      );
    }
  }
}

/**
 * Registers the `keys` missing from `namespace`, then waits (at most `waitMs`) until they are listed: with SQL
 * visibility a new attribute shows up a little later. An attribute of the same name and another type is refused.
 */
export async function ensureSearchAttributes(
  connection: Services,
  namespace: string,
  keys: readonly Key[],
  options: { waitMs: number },
): Promise<EnsuredSearchAttribute[]> {
  const listed = await list(connection, namespace);
  refuseConflicts(listed, keys, namespace);
  const missing = keys.filter((key) => listed[key.name] === undefined);
  if (missing.length > 0) {
    const names = missing.map((key) => key.name).join(', ');
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedType(key.type)])),
      });
    } catch (err) {
      if (refusedByServer(err)) {
        throw new UserFacingError(
          `the server refuses to register the search attributes ${names} in namespace ${namespace} (${errorText(err)}); on ` +
            'Temporal Cloud add them in the Cloud UI (namespace settings) or with tcld, then run retention setup again',
        );
      }
      // Another `retention setup` may have added them a moment ago; the types are checked below.
      if (grpcCode(err) !== GrpcStatus.ALREADY_EXISTS) {
        throw new UserFacingError(`cannot register the search attributes ${names} in namespace ${namespace}: ${errorText(err)}`);
      }
    }
    const visible = await pollUntil(async () => {
      const now = await list(connection, namespace);
      refuseConflicts(now, keys, namespace);
      return missing.every((key) => now[key.name] !== undefined);
    }, options.waitMs);
    if (!visible) {
      throw new UserFacingError(
        `the search attributes ${names} were registered but are not listed after ${Math.round(options.waitMs / 1000)} s; run retention setup again in a minute`,
      );
    }
  }
  return keys.map((key) => ({ name: key.name, type: typeName(key.type), action: missing.includes(key) ? 'registered' : 'present' }));
}
