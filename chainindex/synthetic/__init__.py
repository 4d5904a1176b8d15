"""A deterministic, mainnet-like synthetic chain, written in the chain-archive format.

Quick use::

    from chainindex.synthetic import ChainGenerator, ChainShape, write_archive

    gen = ChainGenerator(ChainShape(fill=0.05), seed=7)      # sparse blooms
    write_archive(gen, "chain.jsonl", 10_000)               # blocks 0..9999
    for record in ChainGenerator(seed=7).records(100): ...  # dicts, one block at a time

**Format.** One JSON object per line, ``{"chainId": <eth_chainId>, "block":
<eth_getBlockByNumber(n, false)>, "receipts": <eth_getBlockReceipts(n)>}``, as geth writes
them (see ``tests/data/CHAINS.md``), the chain id in every record (1337 unless told otherwise):
post-merge (Paris) headers, keys of blocks and receipts sorted, log keys in geth's order,
minimal hex quantities, lowercase hex data; every receipt's ``logsBloom`` is the bloom of its
logs and the block's is their OR; ``logIndex`` counts across the block. Block 0 is a genesis
without transactions. Headers-only archives hold ``{"block": ...}`` lines whose headers equal
the full chain's and whose ``transactions`` are empty.

**Content.** Contracts of seven classes (ERC-20, WETH, Uniswap V2 pair, ERC-721, ENS
registrar controller, ENS public resolver, ERC-1155) emit real events with their real
signatures: ``Transfer`` (ERC-20, and ERC-721 with the token id as a fourth topic),
``Approval``, ``ApprovalForAll``, ``Swap``, ``Deposit``, ``Withdrawal``, ``NameRegistered``,
``TextChanged``, ``URI``, ``TransferSingle``. Contract and holder popularity are Zipf laws;
names and texts are made of :data:`WORDS`; see :class:`ChainShape` for every parameter.

**Hashes.** ``K`` = keccak256("logfilter-synthetic/1" ‖ shape fingerprint ‖ seed as 8 bytes
big-endian), where the fingerprint is the sorted-key JSON of every :class:`ChainShape` field.
With ``n`` as 8 bytes big-endian:

* block ``hash`` = keccak256(RLP of the 16-field Paris header): real and recomputable;
* ``stateRoot`` = keccak256(K ‖ "state" ‖ n), ``mixHash`` = keccak256(K ‖ "randao" ‖ n);
* ``receiptsRoot`` is the real trie root of the block's receipts (go-ethereum's ``DeriveSha``
  of their consensus encoding), so that the chain passes sync's verification; headers-only
  archives carry the same root;
* ``transactionsRoot`` = keccak256(K ‖ "transactions" ‖ n), or the empty-trie root for a
  block without transactions (a synthetic value: the transactions exist only as hashes);
* transaction ``i`` of block ``n``: keccak256(K ‖ "tx" ‖ n ‖ i as 4 bytes big-endian);
* parent of the first block of a chain started at ``n > 0``: keccak256(K ‖ "parent" ‖ n);
  a chain from genesis has the zero hash as block 0's parent.

**Determinism.** Same shape, seed, first block, generator version and numpy version give the
same bytes (numpy documents that its distributions may change between releases).

**Modules.** :mod:`~chainindex.synthetic.shape` (:class:`ChainShape`, the knobs),
:mod:`~chainindex.synthetic.words` and :mod:`~chainindex.synthetic.text` (the vocabulary and
the strings made of it), :mod:`~chainindex.synthetic.events` (events and contract classes),
:mod:`~chainindex.synthetic.sampling` (Zipf popularity), :mod:`~chainindex.synthetic.population`
(contracts, holders, producers), :mod:`~chainindex.synthetic.calibrate` (fill to log count),
:mod:`~chainindex.synthetic.logs` and :mod:`~chainindex.synthetic.plan` (a batch's logs and
structure), :mod:`~chainindex.synthetic.payload` (what only receipts show),
:mod:`~chainindex.synthetic.header` and :mod:`~chainindex.synthetic.receipts` (geth's JSON),
:mod:`~chainindex.synthetic.generator` (:class:`ChainGenerator`) and
:mod:`~chainindex.synthetic.archive` (:func:`write_archive`).
"""

from chainindex.synthetic.archive import Progress, write_archive
from chainindex.synthetic.calibrate import logs_for_fill
from chainindex.synthetic.events import CLASS_NAMES, CLASSES, EVENTS, ContractClass, Ev, EventType
from chainindex.synthetic.generator import (
    DEFAULT_CHAIN_ID,
    GENERATOR_VERSION,
    ChainGenerator,
    GeneratedRecord,
    GenerationStats,
    chain_key,
)
from chainindex.synthetic.shape import (
    DEFAULT_MIX,
    FILL_PRESETS,
    MAX_FILL,
    ChainShape,
    parse_fill,
    parse_mix,
)
from chainindex.synthetic.words import WORDS

__all__ = [
    "CLASSES",
    "CLASS_NAMES",
    "DEFAULT_CHAIN_ID",
    "DEFAULT_MIX",
    "EVENTS",
    "FILL_PRESETS",
    "GENERATOR_VERSION",
    "MAX_FILL",
    "WORDS",
    "ChainGenerator",
    "ChainShape",
    "ContractClass",
    "Ev",
    "EventType",
    "GeneratedRecord",
    "GenerationStats",
    "Progress",
    "chain_key",
    "logs_for_fill",
    "parse_fill",
    "parse_mix",
    "write_archive",
]
