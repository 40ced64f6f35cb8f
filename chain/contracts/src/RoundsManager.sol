// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Owned} from "./Owned.sol";
import {Managed} from "./Managed.sol";
import {IRoundsManager} from "./Interfaces.sol";

/// @notice Rounds of a fixed number of blocks. On the dev chain the block
/// number stands in for Arbitrum's L1 block number.
contract RoundsManager is Owned, Managed, IRoundsManager {
    uint256 public roundLength;
    uint256 public lastInitializedRound;

    mapping(uint256 => bytes32) private roundBlockHash;

    event NewRound(uint256 indexed round, bytes32 blockHash);

    constructor(address controllerAddress, uint256 initialRoundLength) Managed(controllerAddress) {
        require(initialRoundLength > 0, "round length must be positive");
        roundLength = initialRoundLength;
        // Initializing the deployment round here means a freshly deployed
        // chain accepts tickets at once instead of waiting a whole round.
        _initialize(currentRound());
    }

    /// @dev Changes take effect immediately, which can move currentRound;
    /// acceptable for a dev-chain hook, never done mid-test by the devchain.
    function setRoundLength(uint256 newRoundLength) external onlyOwner {
        require(newRoundLength > 0, "round length must be positive");
        roundLength = newRoundLength;
    }

    function blockNum() public view returns (uint256) {
        return block.number;
    }

    function currentRound() public view returns (uint256) {
        return blockNum() / roundLength;
    }

    function currentRoundInitialized() public view returns (bool) {
        return lastInitializedRound == currentRound();
    }

    function blockHashForRound(uint256 round) external view returns (bytes32) {
        return roundBlockHash[round];
    }

    function initializeRound() external whenSystemNotPaused {
        require(!currentRoundInitialized(), "round already initialized");
        _initialize(currentRound());
    }

    function _initialize(uint256 round) private {
        bytes32 h = blockhash(block.number - 1);
        lastInitializedRound = round;
        roundBlockHash[round] = h;
        emit NewRound(round, h);
    }
}
