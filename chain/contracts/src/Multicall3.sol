// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Read aggregator with the ABI of the widely deployed Multicall3's
/// aggregate3, so code that batches its reads through the canonical
/// Multicall3 address on Arbitrum does the same on the dev chain.
contract Multicall3 {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice Makes each call in order and returns every outcome. A failed
    /// call with allowFailure false reverts the whole aggregate; otherwise
    /// its revert data is returned with success false.
    /// @dev Payable only to keep the canonical selector's ABI; the value is
    /// not forwarded.
    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            Call3 calldata c = calls[i];
            (bool success, bytes memory data) = c.target.call(c.callData);
            require(success || c.allowFailure, "Multicall3: call failed");
            returnData[i] = Result(success, data);
        }
    }
}
