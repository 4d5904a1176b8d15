// viem against a logfilter server, unmodified: createPublicClient with an http transport,
// getChainId, getBlockNumber and getLogs from block `from` to the head. Prints one JSON object.
// (viem's http transport refuses answers over 10 MiB by default: pick the range accordingly.)
import { createPublicClient, http } from "viem";

const [url, from] = process.argv.slice(2);
const client = createPublicClient({ transport: http(url) });
const chainId = await client.getChainId();
const head = await client.getBlockNumber();
const logs = await client.getLogs({ fromBlock: BigInt(from ?? "0"), toBlock: head });

console.log(JSON.stringify({
  chainId: String(chainId),
  head: Number(head),
  logs: logs.map((log) => ({
    address: log.address.toLowerCase(),
    topics: log.topics,
    data: log.data,
    blockNumber: Number(log.blockNumber),
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    transactionIndex: log.transactionIndex,
    logIndex: log.logIndex,
  })),
}));
