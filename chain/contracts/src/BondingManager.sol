// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Owned} from "./Owned.sol";
import {Managed} from "./Managed.sol";
import {GasBallast} from "./GasBallast.sol";
import {IBondingManager} from "./Interfaces.sol";

/// @notice What TicketBroker and the redeemer need of the protocol's
/// BondingManager: the active set, the pool size and each transcoder's fee
/// pool. Staking is out of scope for the dev chain, so the owner decides who
/// is registered (self-bonded) and who is active.
contract BondingManager is Owned, Managed, GasBallast, IBondingManager {
    // Gas the protocol's fee accounting spends beyond this contract's, for
    // the first fees of a round: that call creates the transcoder's earnings
    // pool for the round (fresh storage throughout). Sized with TicketBroker's
    // ballast so a redemption costs what it costs on Arbitrum.
    uint256 public constant FIRST_FEES_OF_ROUND_GAS = 306_150;

    mapping(address => bool) private registered;
    mapping(address => bool) private active;
    uint256 private poolSize;

    mapping(address => uint256) private fees;
    // The round of each transcoder's latest fees: a different round means
    // the next fees are the first of their round.
    mapping(address => uint256) private lastFeeRound;

    event TranscoderActivated(address indexed transcoder, bool active);
    event TranscoderRegistered(address indexed transcoder, bool registered);
    event TranscoderPoolSizeSet(uint256 poolSize);

    modifier onlyTicketBroker() {
        require(msg.sender == controller.getContract(TICKET_BROKER_ID), "caller must be TicketBroker");
        _;
    }

    constructor(address controllerAddress) Managed(controllerAddress) {}

    /// @dev An active transcoder is always registered: activating registers,
    /// deactivating leaves the transcoder registered but outside the set,
    /// like one that fell out of the active set without unbonding.
    function setActiveTranscoder(address transcoder, bool isActive) external onlyOwner {
        if (isActive) {
            _setRegistered(transcoder, true);
        }
        _setActive(transcoder, isActive);
    }

    /// @dev Unregistering (unbonding everything) also leaves the active set.
    function setRegisteredTranscoder(address transcoder, bool isRegistered) external onlyOwner {
        if (!isRegistered) {
            _setActive(transcoder, false);
        }
        _setRegistered(transcoder, isRegistered);
    }

    /// @dev Lets tests change every sender's reserve allocation without
    /// changing which recipients are active.
    function setTranscoderPoolSize(uint256 size) external onlyOwner {
        poolSize = size;
        emit TranscoderPoolSizeSet(size);
    }

    /// @notice Credits fees from a winning ticket to the transcoder's fee
    /// pool. The ETH itself stays with TicketBroker, as on the protocol it
    /// stays with the Minter until withdrawn.
    /// @param round The ticket's creation round; unused, as on the protocol,
    /// which books fees in the current round.
    function updateTranscoderWithFees(address transcoder, uint256 amount, uint256 round)
        external
        whenSystemNotPaused
        onlyTicketBroker
    {
        round;
        require(registered[transcoder], "transcoder must be registered");
        uint256 current = roundsManager().currentRound();
        if (lastFeeRound[transcoder] != current) {
            lastFeeRound[transcoder] = current;
            burnGas(FIRST_FEES_OF_ROUND_GAS);
        }
        fees[transcoder] += amount;
    }

    /// @notice Fees credited to delegator and not yet withdrawn.
    /// @param endRound Unused, as on the protocol, which always answers for
    /// the current round.
    function pendingFees(address delegator, uint256 endRound) external view returns (uint256) {
        endRound;
        return fees[delegator];
    }

    function getTranscoderPoolSize() external view returns (uint256) {
        return poolSize;
    }

    function isActiveTranscoder(address transcoder) external view returns (bool) {
        return active[transcoder];
    }

    function isRegisteredTranscoder(address transcoder) external view returns (bool) {
        return registered[transcoder];
    }

    function _setActive(address transcoder, bool isActive) private {
        if (active[transcoder] == isActive) {
            return;
        }
        active[transcoder] = isActive;
        if (isActive) {
            poolSize += 1;
        } else if (poolSize > 0) {
            // The pool size may have been overridden below the number of
            // actives; saturate rather than revert so deactivation always works.
            poolSize -= 1;
        }
        emit TranscoderActivated(transcoder, isActive);
    }

    function _setRegistered(address transcoder, bool isRegistered) private {
        if (registered[transcoder] == isRegistered) {
            return;
        }
        registered[transcoder] = isRegistered;
        emit TranscoderRegistered(transcoder, isRegistered);
    }
}
