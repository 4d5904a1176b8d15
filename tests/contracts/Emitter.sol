// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Emitter: emits logs on demand for logfilter's tests and benchmarks.
/// @notice Raw logs with 0 to 4 topics and any data, batches of many logs in one
/// transaction, and ENS-style name registrations (a string argument for the text index).
contract Emitter {
    /// @notice An ENS base-registrar-controller style registration.
    event NameRegistered(
        string name,
        bytes32 indexed label,
        address indexed owner,
        uint256 baseCost,
        uint256 premium,
        uint256 expires
    );

    /// @notice Emits one log with `topics` (0 to 4 of them) and `data`.
    function emitLog(bytes32[] calldata topics, bytes calldata data) external {
        uint256 n = topics.length;
        require(n <= 4, "at most 4 topics");
        assembly {
            let ptr := mload(0x40)
            calldatacopy(ptr, data.offset, data.length)
            let t := topics.offset
            switch n
            case 0 { log0(ptr, data.length) }
            case 1 { log1(ptr, data.length, calldataload(t)) }
            case 2 { log2(ptr, data.length, calldataload(t), calldataload(add(t, 32))) }
            case 3 {
                log3(ptr, data.length, calldataload(t), calldataload(add(t, 32)), calldataload(add(t, 64)))
            }
            default {
                log4(
                    ptr,
                    data.length,
                    calldataload(t),
                    calldataload(add(t, 32)),
                    calldataload(add(t, 64)),
                    calldataload(add(t, 96))
                )
            }
        }
    }

    /// @notice Emits `count` logs. Log i has i % 5 topics, topic j being
    /// keccak256(seed, i) + j, and 32 bytes of data holding i.
    function emitMany(uint256 count, bytes32 seed) external {
        for (uint256 i = 0; i < count; i++) {
            bytes32 t = keccak256(abi.encode(seed, i));
            assembly {
                mstore(0, i)
                switch mod(i, 5)
                case 0 { log0(0, 32) }
                case 1 { log1(0, 32, t) }
                case 2 { log2(0, 32, t, add(t, 1)) }
                case 3 { log3(0, 32, t, add(t, 1), add(t, 2)) }
                default { log4(0, 32, t, add(t, 1), add(t, 2), add(t, 3)) }
            }
        }
    }

    /// @notice Emits NameRegistered for `name`, its label being keccak256(name).
    function register(string calldata name, address owner, uint256 baseCost, uint256 premium, uint256 expires)
        external
    {
        emit NameRegistered(name, keccak256(bytes(name)), owner, baseCost, premium, expires);
    }
}
