// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Burns a fixed amount of gas on purpose.
/// @dev The dev contracts do far less work than the protocol's (no proxies,
/// no earnings pools, no Minter), so a redemption here would cost a fraction
/// of what it costs on Arbitrum and the service's gas economics could not be
/// tested. The contracts that stand in for that work burn the difference
/// with burnGas, sized so receipts land near the deployed figures.
///
/// The gas goes into a call to a sink whose only code is INVALID, which
/// consumes every unit it is given: the amount is exact and costs no
/// interpreter time, unlike a loop of the same gas.
abstract contract GasBallast {
    // Init code that deploys the single byte 0xfe (INVALID):
    // PUSH1 0xfe PUSH1 0 MSTORE8 PUSH1 1 PUSH1 0 RETURN.
    uint256 private constant SINK_INIT_CODE = 0x60fe60005360016000f3;
    uint256 private constant SINK_INIT_CODE_LENGTH = 10;

    // Covers the CALL itself (a cold account costs 2600) and the few
    // instructions around it, so the sink always receives the full amount.
    uint256 private constant CALL_MARGIN = 5000;

    address private immutable sink;

    constructor() {
        address created;
        assembly {
            mstore(0, SINK_INIT_CODE)
            created := create(0, sub(32, SINK_INIT_CODE_LENGTH), SINK_INIT_CODE_LENGTH)
        }
        require(created != address(0), "gas sink not created");
        sink = created;
    }

    function burnGas(uint256 amount) internal {
        // A call forwards at most 63/64 of the gas left. With less than the
        // amount in reach the real work would have run out of gas, so this
        // frame does too (INVALID consumes everything) rather than carrying
        // on after burning less.
        if (gasleft() < amount + amount / 63 + CALL_MARGIN) {
            assembly {
                invalid()
            }
        }
        address target = sink;
        assembly {
            pop(call(amount, target, 0, 0, 0, 0, 0))
        }
    }
}
