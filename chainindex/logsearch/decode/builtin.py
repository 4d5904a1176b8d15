"""The events every registry knows without being told: the common standards of mainnet.

Written as human-readable signatures; topic 0 is computed from the canonical signature (see
:class:`~chainindex.logsearch.decode.abi.EventAbi`).
Events that share a canonical signature but differ in
which parameters are indexed (ERC-20 and ERC-721 ``Transfer``) are told apart by the number of
topics of a log. WETH's ``Transfer``/``Approval`` are the ERC-20 events (same signature and
indexing; the ERC-20 parameter names are used).
"""

from __future__ import annotations

from chainindex.logsearch.decode.abi import EventAbi, parse_event_signature

__all__ = ["BUILTIN_EVENTS", "builtin_events"]

BUILTIN_EVENTS: tuple[str, ...] = (
    # ERC-20 (and WETH)
    "Transfer(address indexed from, address indexed to, uint256 value)",
    "Approval(address indexed owner, address indexed spender, uint256 value)",
    # WETH9
    "Deposit(address indexed dst, uint256 wad)",
    "Withdrawal(address indexed src, uint256 wad)",
    # ERC-721
    "Transfer(address indexed from, address indexed to, uint256 indexed tokenId)",
    "Approval(address indexed owner, address indexed approved, uint256 indexed tokenId)",
    # ERC-721 and ERC-1155
    "ApprovalForAll(address indexed owner, address indexed operator, bool approved)",
    # ERC-1155
    "TransferSingle(address indexed operator, address indexed from, address indexed to,"
    " uint256 id, uint256 value)",
    "TransferBatch(address indexed operator, address indexed from, address indexed to,"
    " uint256[] ids, uint256[] values)",
    "URI(string value, uint256 indexed id)",
    # ENS registrar controllers (the current one with base cost and premium, and the older one)
    "NameRegistered(string name, bytes32 indexed label, address indexed owner,"
    " uint256 baseCost, uint256 premium, uint256 expires)",
    "NameRegistered(string name, bytes32 indexed label, address indexed owner,"
    " uint256 cost, uint256 expires)",
    "NameRenewed(string name, bytes32 indexed label, uint256 cost, uint256 expires)",
    # ENS base registrar (the .eth ERC-721)
    "NameRegistered(uint256 indexed id, address indexed owner, uint256 expires)",
    "NameRenewed(uint256 indexed id, uint256 expires)",
    # ENS registry
    "NewOwner(bytes32 indexed node, bytes32 indexed label, address owner)",
    "NewResolver(bytes32 indexed node, address resolver)",
    "NewTTL(bytes32 indexed node, uint64 ttl)",
    # ENS public resolver
    "TextChanged(bytes32 indexed node, string indexed indexedKey, string key)",
    "TextChanged(bytes32 indexed node, string indexed indexedKey, string key, string value)",
    "NameChanged(bytes32 indexed node, string name)",
    "AddrChanged(bytes32 indexed node, address a)",
    "AddressChanged(bytes32 indexed node, uint256 coinType, bytes newAddress)",
    "ContenthashChanged(bytes32 indexed node, bytes hash)",
    # ENS reverse registrar and name wrapper
    "ReverseClaimed(address indexed addr, bytes32 indexed node)",
    "NameWrapped(bytes32 indexed node, bytes name, address owner, uint32 fuses, uint64 expiry)",
    "NameUnwrapped(bytes32 indexed node, address owner)",
    # Uniswap V2 pairs and factory
    "Swap(address indexed sender, uint256 amount0In, uint256 amount1In, uint256 amount0Out,"
    " uint256 amount1Out, address indexed to)",
    "Mint(address indexed sender, uint256 amount0, uint256 amount1)",
    "Burn(address indexed sender, uint256 amount0, uint256 amount1, address indexed to)",
    "Sync(uint112 reserve0, uint112 reserve1)",
    "PairCreated(address indexed token0, address indexed token1, address pair, uint256 index)",
    # Uniswap V3 pools and factory
    "Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1,"
    " uint160 sqrtPriceX96, uint128 liquidity, int24 tick)",
    "Mint(address sender, address indexed owner, int24 indexed tickLower,"
    " int24 indexed tickUpper, uint128 amount, uint256 amount0, uint256 amount1)",
    "Burn(address indexed owner, int24 indexed tickLower, int24 indexed tickUpper,"
    " uint128 amount, uint256 amount0, uint256 amount1)",
    "Collect(address indexed owner, address recipient, int24 indexed tickLower,"
    " int24 indexed tickUpper, uint128 amount0, uint128 amount1)",
    "Initialize(uint160 sqrtPriceX96, int24 tick)",
    "PoolCreated(address indexed token0, address indexed token1, uint24 indexed fee,"
    " int24 tickSpacing, address pool)",
    # Ownable
    "OwnershipTransferred(address indexed previousOwner, address indexed newOwner)",
    # AccessControl
    "RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
    "RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
    "RoleAdminChanged(bytes32 indexed role, bytes32 indexed previousAdminRole,"
    " bytes32 indexed newAdminRole)",
    # Pausable
    "Paused(address account)",
    "Unpaused(address account)",
)
"""Human-readable signatures of the built-in events."""


def builtin_events() -> list[EventAbi]:
    """The built-in events, parsed."""
    return [parse_event_signature(text) for text in BUILTIN_EVENTS]
