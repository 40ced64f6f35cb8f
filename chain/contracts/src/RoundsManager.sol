// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Owned} from "./Owned.sol";
import {Managed} from "./Managed.sol";
import {IRoundsManager} from "./Interfaces.sol";

/// @notice Rounds of a fixed number of L1 blocks, as on Arbitrum, where the
/// protocol's contracts see the L1 block number as block.number.
/// @dev The dev chain has a single block number; l2BlocksPerL1 (k) lets it
/// stand in for both: the L1 number is block.number / k, so tests can make
/// rounds and expiration blocks advance slower than the chain's own blocks.
contract RoundsManager is Owned, Managed, IRoundsManager {
    uint256 public immutable l2BlocksPerL1;

    uint256 public roundLength;
    uint256 public lastInitializedRound;
    // Round numbering stays continuous across a change of round length:
    // rounds are counted from the start of the round in which it changed.
    uint256 public lastRoundLengthUpdateRound;
    uint256 public lastRoundLengthUpdateStartBlock;

    mapping(uint256 => bytes32) private roundBlockHash;

    event NewRound(uint256 indexed round, bytes32 blockHash);

    constructor(address controllerAddress, uint256 initialRoundLength, uint256 blocksPerL1)
        Managed(controllerAddress)
    {
        require(blocksPerL1 > 0, "l2BlocksPerL1 cannot be 0");
        l2BlocksPerL1 = blocksPerL1;
        _setRoundLength(initialRoundLength);
        // Initializing the deployment round here means a freshly deployed
        // chain accepts tickets at once instead of waiting a whole round.
        _initialize(currentRound());
    }

    function setRoundLength(uint256 newRoundLength) external onlyOwner {
        _setRoundLength(newRoundLength);
    }

    function blockNum() public view returns (uint256) {
        return block.number / l2BlocksPerL1;
    }

    function currentRound() public view returns (uint256) {
        return lastRoundLengthUpdateRound + (blockNum() - lastRoundLengthUpdateStartBlock) / roundLength;
    }

    /// @notice The L1 block number at which the current round started.
    function currentRoundStartBlock() public view returns (uint256) {
        uint256 rounds = (blockNum() - lastRoundLengthUpdateStartBlock) / roundLength;
        return lastRoundLengthUpdateStartBlock + rounds * roundLength;
    }

    function currentRoundInitialized() public view returns (bool) {
        return lastInitializedRound == currentRound();
    }

    function blockHashForRound(uint256 round) external view returns (bytes32) {
        return roundBlockHash[round];
    }

    function initializeRound() external whenSystemNotPaused {
        uint256 round = currentRound();
        require(lastInitializedRound < round, "round already initialized");
        _initialize(round);
    }

    function _setRoundLength(uint256 newRoundLength) private {
        require(newRoundLength > 0, "round length cannot be 0");
        if (roundLength == 0) {
            // First setting: there is no earlier length to count rounds
            // with, so the anchor is computed with the new one.
            roundLength = newRoundLength;
            lastRoundLengthUpdateRound = currentRound();
            lastRoundLengthUpdateStartBlock = currentRoundStartBlock();
        } else {
            lastRoundLengthUpdateRound = currentRound();
            lastRoundLengthUpdateStartBlock = currentRoundStartBlock();
            roundLength = newRoundLength;
        }
    }

    function _initialize(uint256 round) private {
        // The hash of the block before this one. On Arbitrum the round's
        // hash is taken for the L1 number before the round's first block;
        // here blockhash only reaches back 256 of the chain's own blocks,
        // which an L1 number far behind them would miss, so the chain's
        // parent block stands in. Readers treat the value as opaque.
        bytes32 h = blockhash(block.number - 1);
        lastInitializedRound = round;
        roundBlockHash[round] = h;
        emit NewRound(round, h);
    }
}
