// ethers v6 against a logfilter server, with default options: network detection (eth_chainId),
// getLogs over HTTP, getBlockNumber over WebSocket, and a `logs` subscription that waits for
// `count` logs (0: none) of `address`. Prints one JSON object; any failure exits non-zero.
import { JsonRpcProvider, WebSocketProvider } from "ethers";

const [httpUrl, wsUrl, address, count] = process.argv.slice(2);
const wanted = Number(count ?? "0");
const plain = (log) => ({
  address: log.address.toLowerCase(),
  topics: log.topics,
  data: log.data,
  blockNumber: log.blockNumber,
  blockHash: log.blockHash,
  transactionHash: log.transactionHash,
  transactionIndex: log.transactionIndex,
  logIndex: log.index,
});

const provider = new JsonRpcProvider(httpUrl);
const network = await provider.getNetwork();
const head = await provider.getBlockNumber();
const logs = await provider.getLogs({ fromBlock: 0, toBlock: head });
provider.destroy();

const ws = new WebSocketProvider(wsUrl);
const wsHead = await ws.getBlockNumber();
const pushed = [];
if (wanted > 0) {
  await new Promise((resolve) => {
    ws.on({ address }, (log) => {
      pushed.push(plain(log));
      if (pushed.length === wanted) resolve();
    });
    // The subscription is in place once eth_subscribe answered: say so on stderr.
    setTimeout(() => process.stderr.write("subscribed\n"), 0);
  });
}
await ws.destroy();

console.log(JSON.stringify({
  chainId: network.chainId.toString(),
  head,
  wsHead,
  logs: logs.map(plain),
  pushed,
}));
